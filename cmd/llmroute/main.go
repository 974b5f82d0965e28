// Command llmroute checks virtual model manifests (the format of package
// routing), shows them with every default filled in, and replays traffic
// through them on simulated providers before they are deployed:
//
//	llmroute validate [-accounts a,b] FILE...
//	llmroute show [-accounts a,b] FILE
//	llmroute simulate [-svg FILE] [-series] [-seed N] [-requests N] [-bucket D] MANIFEST SCENARIO
//
// Every command takes its flags before, between or after its files; "--"
// ends the flags. The exit status is 0 on success, 1 when a file has a
// problem (it cannot be read, or the manifest or scenario is invalid) and
// 2 for a usage error (an unknown flag, a bad flag value, the wrong number
// of files). -h prints the usage and exits 0.
//
// simulate runs the real routing.Client in virtual time over providers
// whose latency, errors, outages and rate limits the scenario file sets
// (see package simulate), with calls overlapping as they arrive, prints a
// per-target table and writes an SVG chart of traffic share, latency and
// upstream tries per call over time.
//
// validate prints "FILE: OK" for each good manifest, or all of its
// problems, in line order, as "FILE:LINE: ...", and exits with status 1
// when any file has a problem. Warnings (such as weights that do not sum
// to 100) are printed as "FILE:LINE: warning: ..." and do not fail. Each
// FILE is checked on its own. show prints the normalised manifest (see
// routing.MarshalManifest), or its problems on standard error.
//
// Provider accounts live in the program that serves the manifest, not in
// the manifest, so the command cannot know them. Without -accounts it
// skips the checks that need them. With -accounts it takes the
// comma-separated names as the registered accounts, each able to serve
// every model type: a target naming any other account is a problem.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/routing"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  llmroute validate [-accounts a,b] FILE...   check manifests
  llmroute show [-accounts a,b] FILE          print a manifest with every default filled in
  llmroute simulate [flags] MANIFEST SCENARIO replay traffic in virtual time (llmroute simulate -h)

Flags may come before or after the files. -accounts names the provider
accounts a program registers; without it, targets' accounts are not
checked.
`

// Exit statuses.
const (
	exitOK      = 0
	exitProblem = 1 // a file has a problem
	exitUsage   = 2 // the command line is wrong
)

// run is the command with its arguments (without the program name); it
// returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "simulate":
		return simulateCmd(args, stdout, stderr)
	case "validate", "show":
	default:
		fmt.Fprintf(stderr, "llmroute: unknown command %q\n%s", cmd, usage)
		return exitUsage
	}
	fs := newFlagSet("llmroute " + cmd)
	var accounts routing.Accounts // nil: not known
	fs.Func("accounts", "comma-separated provider account names", func(s string) error {
		if accounts == nil {
			accounts = routing.Accounts{}
		}
		for _, name := range strings.Split(s, ",") {
			if name = strings.TrimSpace(name); name != "" {
				accounts[name] = anyAccount{}
			}
		}
		return nil
	})
	files, status, ok := parse(fs, args, usage, stdout, stderr)
	if !ok {
		return status
	}
	switch {
	case len(files) == 0:
		fmt.Fprintf(stderr, "llmroute %s: no FILE given\n%s", cmd, usage)
		return exitUsage
	case cmd == "show" && len(files) > 1:
		fmt.Fprintf(stderr, "llmroute show: one FILE at a time\n%s", usage)
		return exitUsage
	case cmd == "show":
		return show(files[0], accounts, stdout, stderr)
	}
	status = exitOK
	for _, f := range files {
		if !validate(f, accounts, stdout, stderr) {
			status = exitProblem
		}
	}
	return status
}

// newFlagSet returns a command's flag set, which reports its errors
// through parse.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse reads a command's flags and files in any order: flags may come
// before, between or after the files, and "--" ends the flags (the
// standard flag package stops at the first file). On -h it prints
// usage to stdout; on a bad flag it says why on stderr. ok is false when
// the command must stop, with status.
func parse(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (files []string, status int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, usage)
				return nil, exitOK, false
			}
			fmt.Fprintf(stderr, "%s: %v\n%s", fs.Name(), err, usage)
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(files, rest...), exitOK, true
		}
		if len(rest) == 0 {
			return files, exitOK, true
		}
		files = append(files, rest[0])
		args = rest[1:]
	}
}

// validate checks one file and reports on it; it returns whether the file
// is good.
func validate(file string, accounts routing.Accounts, stdout, stderr io.Writer) bool {
	m, err := load(file, accounts)
	if err != nil {
		report(file, err, stdout, stderr)
		return false
	}
	for _, w := range m.Warnings() {
		fmt.Fprintf(stdout, "%s: warning: %s\n", where(file, w.Line), withoutLine(w))
	}
	fmt.Fprintf(stdout, "%s: OK\n", file)
	return true
}

func show(file string, accounts routing.Accounts, stdout, stderr io.Writer) int {
	m, err := load(file, accounts)
	if err != nil {
		report(file, err, stderr, stderr)
		return exitProblem
	}
	out, err := routing.MarshalManifest(m.Groups)
	if err != nil { // cannot happen for groups read from a manifest
		fmt.Fprintf(stderr, "llmroute show: %s: %v\n", file, err)
		return exitProblem
	}
	stdout.Write(out)
	return exitOK
}

func load(file string, accounts routing.Accounts) (*routing.Manifest, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return routing.CheckManifest(data, accounts, nil)
}

// report prints a manifest's problems to out, one a line, and any other
// error (an unreadable file) to stderr.
func report(file string, err error, out, stderr io.Writer) {
	var es routing.FieldErrors
	if !errors.As(err, &es) {
		fmt.Fprintf(stderr, "llmroute: %v\n", err)
		return
	}
	printProblems(file, es, out)
}

// printProblems prints each problem of file as "FILE:LINE: ...".
func printProblems(file string, es []*routing.FieldError, out io.Writer) {
	for _, e := range es {
		fmt.Fprintf(out, "%s: %s\n", where(file, e.Line), withoutLine(e))
	}
}

func where(file string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

// withoutLine is a problem's text without its "line N: " prefix, which
// the command prints its own way.
func withoutLine(e *routing.FieldError) string {
	c := *e
	c.Line = 0
	return c.Error()
}

// anyAccount stands for a provider account the command was told exists;
// it serves every model type, and is never called.
type anyAccount struct{}

func (anyAccount) Chat(context.Context, providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	return openai.ChatCompletionResponse{}, errors.ErrUnsupported
}

func (anyAccount) Completion(context.Context, providers.CompletionRequest) (openai.CompletionResponse, error) {
	return openai.CompletionResponse{}, errors.ErrUnsupported
}

func (anyAccount) Embed(context.Context, providers.EmbeddingRequest) (openai.EmbeddingResponse, error) {
	return openai.EmbeddingResponse{}, errors.ErrUnsupported
}
