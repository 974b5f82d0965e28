package simulate

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/llmroute/llmroute/config"
)

const usage = `usage: llmroute simulate MANIFEST SCENARIO [flags]

Replays the calls SCENARIO describes through a virtual model of MANIFEST
on simulated providers, in virtual time; prints what each target did and
writes a chart of the traffic share per target over time.

flags (before or after the files):
  -svg FILE     write the chart to FILE (default: SCENARIO with the
                extension .svg; -svg "" writes none)
  -series       also print the share per target in each time bucket
  -seed N       use seed N instead of the scenario's
  -requests N   replay N calls instead of the scenario's number
  -bucket D     time series bucket width, such as 30s (default: the
                scenario's, or a round width giving at most 60 buckets)
`

// Main is the command "llmroute simulate": args are its arguments after
// the command name (MANIFEST SCENARIO and flags, in any order). It prints
// the table to stdout, problems to stderr, and returns the exit status:
// 0 on success, 1 on any problem (bad arguments, unreadable or invalid
// files, a chart that cannot be written). -h prints the usage and returns
// 0.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("llmroute simulate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	svg := fs.String("svg", "", "")
	series := fs.Bool("series", false, "")
	seed := fs.Uint64("seed", 0, "")
	requests := fs.Int("requests", 0, "")
	bucket := fs.Duration("bucket", 0, "")
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, usage)
				return 0
			}
			fmt.Fprintf(stderr, "llmroute simulate: %v\n%s", err, usage)
			return 1
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		files = append(files, args[0])
		args = args[1:]
	}
	if len(files) != 2 {
		fmt.Fprintf(stderr, "llmroute simulate: want MANIFEST and SCENARIO, got %d file(s)\n%s", len(files), usage)
		return 1
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["requests"] && *requests < 1:
		fmt.Fprintf(stderr, "llmroute simulate: -requests: want at least 1, got %d\n", *requests)
		return 1
	case set["bucket"] && *bucket <= 0:
		fmt.Fprintf(stderr, "llmroute simulate: -bucket: want a positive duration, got %v\n", *bucket)
		return 1
	}
	mfile, sfile := files[0], files[1]
	manifest, err := os.ReadFile(mfile)
	if err != nil {
		fmt.Fprintf(stderr, "llmroute simulate: %v\n", err)
		return 1
	}
	sdata, err := os.ReadFile(sfile)
	if err != nil {
		fmt.Fprintf(stderr, "llmroute simulate: %v\n", err)
		return 1
	}
	sc, err := ParseScenario(sdata)
	if err != nil {
		report(mfile, sfile, err, stderr)
		return 1
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
	res, err := Run(context.Background(), manifest, sc)
	if err != nil {
		report(mfile, sfile, err, stderr)
		return 1
	}
	if err := res.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "llmroute simulate: %v\n", err)
		return 1
	}
	if *series {
		fmt.Fprintln(stdout)
		if err := res.WriteSeries(stdout); err != nil {
			fmt.Fprintf(stderr, "llmroute simulate: %v\n", err)
			return 1
		}
	}
	out := *svg
	if !set["svg"] {
		out = strings.TrimSuffix(sfile, filepath.Ext(sfile)) + ".svg"
	}
	if out == "" {
		return 0
	}
	if err := writeSVG(out, res); err != nil {
		fmt.Fprintf(stderr, "llmroute simulate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "\nchart: %s\n", out)
	return 0
}

func writeSVG(file string, res *Result) error {
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

// report prints each problem as "FILE:LINE: ...", naming the file it is in.
func report(mfile, sfile string, err error, stderr io.Writer) {
	var sl ErrorList
	var cl config.Errors
	switch {
	case errors.As(err, &sl):
		for _, e := range sl {
			c := *e
			c.Line = 0
			fmt.Fprintf(stderr, "%s: %s\n", where(sfile, e.Line), c.Error())
		}
	case errors.As(err, &cl):
		for _, e := range cl {
			c := *e
			c.Line = 0
			fmt.Fprintf(stderr, "%s: %s\n", where(mfile, e.Line), c.Error())
		}
	default:
		fmt.Fprintf(stderr, "llmroute simulate: %v\n", err)
	}
}

func where(file string, line int) string {
	if line > 0 {
		return file + ":" + strconv.Itoa(line)
	}
	return file
}
