package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/simulate"
)

const simulateUsage = `usage: llmroute simulate MANIFEST SCENARIO [flags]

Replays the calls SCENARIO describes through a virtual model of MANIFEST
on simulated providers, in virtual time, each call starting on schedule
as in production (calls overlap, hedged tries race); prints what each
target did and writes a chart of the traffic share per target over time,
with the calls' latency and upstream tries per call under it.

flags (before or after the files):
  -svg FILE     write the chart to FILE (default: SCENARIO with the
                extension .svg; -svg "" writes none)
  -series       also print each time bucket: calls, failures, tries per
                call, p50 and p99 latency and the share per target
  -seed N       use seed N instead of the scenario's
  -requests N   replay N calls instead of the scenario's number
  -bucket D     time series bucket width, such as 30s (default: the
                scenario's, or a round width giving at most 60 buckets)
`

// simulateCmd is "llmroute simulate": args are its arguments after the
// command name (MANIFEST SCENARIO and flags, in any order). It prints the
// table to stdout and problems to stderr.
func simulateCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("llmroute simulate")
	svg := fs.String("svg", "", "")
	series := fs.Bool("series", false, "")
	seed := fs.Uint64("seed", 0, "")
	requests := fs.Int("requests", 0, "")
	bucket := fs.Duration("bucket", 0, "")
	files, status, ok := parse(fs, args, simulateUsage, stdout, stderr)
	if !ok {
		return status
	}
	if len(files) != 2 {
		fmt.Fprintf(stderr, "llmroute simulate: want MANIFEST and SCENARIO, got %d file(s)\n%s", len(files), simulateUsage)
		return exitUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["requests"] && *requests < 1:
		fmt.Fprintf(stderr, "llmroute simulate: -requests: want at least 1, got %d\n", *requests)
		return exitUsage
	case set["bucket"] && *bucket <= 0:
		fmt.Fprintf(stderr, "llmroute simulate: -bucket: want a positive duration, got %v\n", *bucket)
		return exitUsage
	}
	mfile, sfile := files[0], files[1]
	manifest, err := os.ReadFile(mfile)
	if err != nil {
		fmt.Fprintf(stderr, "llmroute simulate: %v\n", err)
		return exitProblem
	}
	sdata, err := os.ReadFile(sfile)
	if err != nil {
		fmt.Fprintf(stderr, "llmroute simulate: %v\n", err)
		return exitProblem
	}
	sc, err := simulate.ParseScenario(sdata)
	if err != nil {
		reportRun(mfile, sfile, err, stderr)
		return exitProblem
	}
	if set["seed"] {
		sc.Seed = *seed
	}
	if set["requests"] {
		sc.Requests = *requests
	}
	if set["bucket"] {
		sc.Bucket = *bucket
	}
	res, err := simulate.Run(context.Background(), manifest, sc)
	if err != nil {
		reportRun(mfile, sfile, err, stderr)
		return exitProblem
	}
	if err := res.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "llmroute simulate: %v\n", err)
		return exitProblem
	}
	if *series {
		fmt.Fprintln(stdout)
		if err := res.WriteSeries(stdout); err != nil {
			fmt.Fprintf(stderr, "llmroute simulate: %v\n", err)
			return exitProblem
		}
	}
	out := *svg
	if !set["svg"] {
		out = strings.TrimSuffix(sfile, filepath.Ext(sfile)) + ".svg"
	}
	if out == "" {
		return exitOK
	}
	if err := writeSVG(out, res); err != nil {
		fmt.Fprintf(stderr, "llmroute simulate: %v\n", err)
		return exitProblem
	}
	fmt.Fprintf(stdout, "\nchart: %s\n", out)
	return exitOK
}

func writeSVG(file string, res *simulate.Result) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := res.WriteSVG(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// reportRun prints each problem of a simulation as "FILE:LINE: ...",
// naming the file it is in: the scenario's or the manifest's.
func reportRun(mfile, sfile string, err error, stderr io.Writer) {
	var sl simulate.ErrorList
	var cl routing.FieldErrors
	switch {
	case errors.As(err, &sl):
		printProblems(sfile, sl, stderr)
	case errors.As(err, &cl):
		printProblems(mfile, cl, stderr)
	default:
		fmt.Fprintf(stderr, "llmroute simulate: %v\n", err)
	}
}
