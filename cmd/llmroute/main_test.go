package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/routing"
)

const testdata = "../../routing/testdata/"

// exec runs the command and returns its status and output.
func exec(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	status = run(args, &out, &errOut)
	return status, out.String(), errOut.String()
}

// file writes a manifest to a temporary file and returns its path.
func file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const bad = `name: booking-app
type: provider-account/virtual-model
integrations:
  - name: gpt-prod
    type: integration/model/virtual
    routing_config:
      type: weight-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          weight: 90
        - target: openai-main/gpt-4o
          priority: 1
`

func TestValidate(t *testing.T) {
	files, err := filepath.Glob(testdata + "*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test manifests: %v", err)
	}
	status, out, errOut := exec(t, append([]string{"validate"}, files...)...)
	if status != 0 || errOut != "" {
		t.Fatalf("status %d, stderr %q", status, errOut)
	}
	for _, f := range files {
		if !strings.Contains(out, f+": OK\n") {
			t.Errorf("output lacks %q:\n%s", f+": OK", out)
		}
	}
}

// One run shows every problem of a file, in line order: those found
// reading it and those found checking it, with the accounts given.
func TestValidateEveryProblemAtOnce(t *testing.T) {
	p := file(t, "four.yaml", `name: booking-app
type: provider-account/virtual-model
integrations:
  - name: chat
    type: integration/model/virtual
    colour: blue
    routing_config:
      type: weight-based-routing
      request_timeout_ms: -5
      sticky_routing: {ttl_seconds: 10, session_identifiers: [{source: headers, key: x-user}]}
      load_balance_targets:
        - target: onprem/llama
          weight: fifty
        - weight: 50
`)
	status, out, errOut := exec(t, "validate", "-accounts", "azure", p)
	if status != 1 || errOut != "" {
		t.Errorf("status %d, stderr %q; want 1 and nothing", status, errOut)
	}
	g, lbt := `group "booking-app": integrations[0]`, ".routing_config.load_balance_targets"
	want := p + ":6: " + g + `.colour: unknown key "colour"` + "\n" +
		p + ":9: " + g + ".routing_config.request_timeout_ms: must be positive, got -5\n" +
		p + ":10: " + g + ".routing_config.sticky_routing.ttl_seconds: 10 is out of range 1800..86400\n" +
		p + ":12: " + g + lbt + `[0].target: unknown provider account "onprem" (register it with routing.WithProvider)` + "\n" +
		p + ":13: " + g + lbt + `[0].weight: want an integer, got the string "fifty"` + "\n" +
		p + ":14: " + g + lbt + "[1].target: required (account/model)\n"
	if diff := cmp.Diff(out, want); diff != "" {
		t.Errorf("output (-got +want):\n%s", diff)
	}
}

func TestValidateProblems(t *testing.T) {
	p := file(t, "bad.yaml", bad)
	good := testdata + "canary.yaml"
	status, out, errOut := exec(t, "validate", good, p)
	if status != 1 || errOut != "" {
		t.Errorf("status %d, stderr %q; want 1 and nothing", status, errOut)
	}
	want := good + ": OK\n" +
		p + `:11: group "booking-app": integrations[0].routing_config.load_balance_targets[1].weight: required for weight-based-routing` + "\n" +
		p + `:12: group "booking-app": integrations[0].routing_config.load_balance_targets[1].priority: applies only to priority-based-routing` + "\n"
	if diff := cmp.Diff(out, want); diff != "" {
		t.Errorf("output (-got +want):\n%s", diff)
	}
}

func TestValidateAccounts(t *testing.T) {
	f := testdata + "environments.yaml"
	tests := []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"validate", f}, 0, f + ": OK\n"},
		{[]string{"validate", "-accounts", "azure-main,openai-main", f}, 0, f + ": OK\n"},
		{[]string{"validate", "-accounts", "azure-main", f}, 1, "" +
			f + `:20: group "booking-app": integrations[0].routing_config.load_balance_targets[1].target: unknown provider account "openai-main" (register it with routing.WithProvider)` + "\n" +
			f + `:28: group "booking-app": integrations[1].routing_config.load_balance_targets[0].target: unknown provider account "openai-main" (register it with routing.WithProvider)` + "\n" +
			f + `:41: group "booking-app-search": integrations[0].routing_config.load_balance_targets[0].target: unknown provider account "openai-main" (register it with routing.WithProvider)` + "\n"},
	}
	for _, tc := range tests {
		status, out, _ := exec(t, tc.args...)
		if status != tc.status {
			t.Errorf("%v: status %d, want %d", tc.args, status, tc.status)
		}
		if diff := cmp.Diff(out, tc.want); diff != "" {
			t.Errorf("%v: output (-got +want):\n%s", tc.args, diff)
		}
	}
}

func TestValidateWarnings(t *testing.T) {
	p := file(t, "w.yaml", strings.Replace(bad, "          priority: 1\n", "          weight: 5\n", 1))
	status, out, _ := exec(t, "validate", p)
	want := p + `:8: warning: group "booking-app": integrations[0].routing_config.load_balance_targets: weights sum to 95, not 100; they are taken as relative shares` + "\n" + p + ": OK\n"
	if status != 0 || out != want {
		t.Errorf("status %d, output:\n%s\nwant:\n%s", status, out, want)
	}
}

func TestShow(t *testing.T) {
	f := testdata + "sticky-sessions.yaml"
	status, out, errOut := exec(t, "show", f)
	if status != 0 || errOut != "" {
		t.Fatalf("status %d, stderr %q", status, errOut)
	}
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := routing.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	want, err := routing.MarshalManifest(groups)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(out, string(want)); diff != "" {
		t.Errorf("show (-got +want):\n%s", diff)
	}
	for _, s := range []string{"ttl_seconds: 3600", "model_types: [chat]", "fallback_candidate: true", `on_status_codes: ["429", "500", "502", "503"]`} {
		if !strings.Contains(out, s) {
			t.Errorf("show output lacks %q", s)
		}
	}
}

func TestShowProblems(t *testing.T) {
	p := file(t, "bad.yaml", bad)
	status, out, errOut := exec(t, "show", p)
	if status != 1 || out != "" {
		t.Errorf("status %d, stdout %q; want 1 and nothing", status, out)
	}
	if want := p + ":11: "; !strings.HasPrefix(errOut, want) {
		t.Errorf("stderr %q does not start with %q", errOut, want)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args   []string
		status int
		stderr string
	}{
		{nil, 2, "usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"validate"}, 2, "no FILE given"},
		{[]string{"validate", "-accounts", "a"}, 2, "no FILE given"},
		{[]string{"show", "a", "b"}, 2, "one FILE at a time"},
		{[]string{"show", "a", "-accounts", "x", "b"}, 2, "one FILE at a time"},
		{[]string{"validate", "-nope", "x"}, 2, "flag provided but not defined: -nope"},
		{[]string{"validate", "x", "-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"show", "x", "-accounts"}, 2, "flag needs an argument: -accounts"},
		{[]string{"validate", filepath.Join(t.TempDir(), "missing.yaml")}, 1, "no such file"},
	}
	for _, tc := range tests {
		status, _, errOut := exec(t, tc.args...)
		if status != tc.status || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("%q: status %d, stderr %q; want %d and %q", tc.args, status, errOut, tc.status, tc.stderr)
		}
	}
	for _, args := range [][]string{{"help"}, {"validate", "-h"}, {"show", "x", "-h"}, {"simulate", "-h"}} {
		if status, out, _ := exec(t, args...); status != 0 || !strings.Contains(out, "llmroute ") {
			t.Errorf("%q: status %d, output %q; want 0 and the usage", args, status, out)
		}
	}
}

// TestFlagsAnywhere checks that every command takes its flags before,
// between or after its files, and that "--" ends the flags.
func TestFlagsAnywhere(t *testing.T) {
	f := testdata + "environments.yaml"
	g := testdata + "canary.yaml"
	unknown := f + `:20: group "booking-app": integrations[0].routing_config.load_balance_targets[1].target: unknown provider account "openai-main" (register it with routing.WithProvider)`
	tests := []struct {
		name   string
		args   []string
		status int
		stdout string // a line of it
		stderr string // a part of it
	}{
		{"validate, flag before", []string{"validate", "-accounts", "azure-main", f}, 1, unknown, ""},
		{"validate, flag after", []string{"validate", f, "-accounts", "azure-main"}, 1, unknown, ""},
		{"validate, flag between", []string{"validate", g, "-accounts=azure-main", f}, 1, unknown, ""},
		{"validate, all accounts after", []string{"validate", f, "-accounts", "azure-main,openai-main"}, 0, f + ": OK", ""},
		{"show, flag before", []string{"show", "-accounts", "azure-main", f}, 1, "", unknown},
		{"show, flag after", []string{"show", f, "-accounts", "azure-main"}, 1, "", unknown},
		{"show, all accounts after", []string{"show", f, "-accounts", "azure-main,openai-main"}, 0, "name: booking-app", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, out, errOut := exec(t, tc.args...)
			if status != tc.status {
				t.Errorf("status %d, want %d; stderr %q", status, tc.status, errOut)
			}
			if tc.stdout != "" && !slices.Contains(strings.Split(out, "\n"), tc.stdout) {
				t.Errorf("stdout lacks the line %q:\n%s", tc.stdout, out)
			}
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut)
			}
		})
	}
}

// TestDoubleDash checks that "--" ends the flags, so a file whose name
// starts with "-" can be named.
func TestDoubleDash(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("-x.yaml", []byte("# nothing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	status, out, errOut := exec(t, "validate", "--", "-x.yaml")
	if want := "-x.yaml: the manifest holds no groups\n"; status != 1 || out != want {
		t.Errorf("status %d, stdout %q, stderr %q; want 1 and %q", status, out, errOut, want)
	}
	status, _, errOut = exec(t, "validate", "-x.yaml")
	if want := "flag provided but not defined: -x.yaml"; status != 2 || !strings.Contains(errOut, want) {
		t.Errorf("without --: status %d, stderr %q; want 2 and %q", status, errOut, want)
	}
}
