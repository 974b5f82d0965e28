package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyTestdata copies the simulator's NAME manifest and scenario into a
// temporary directory, so that the chart written next to the scenario
// lands there, and returns their paths.
func copyTestdata(t *testing.T, name string) (manifest, scenario string) {
	t.Helper()
	dir := t.TempDir()
	manifest = filepath.Join(dir, name+".manifest.yaml")
	scenario = filepath.Join(dir, name+".scenario.yaml")
	for _, f := range []string{manifest, scenario} {
		data, err := os.ReadFile(filepath.Join("../../simulate/testdata", filepath.Base(f)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return manifest, scenario
}

// runSimulate runs "llmroute simulate" with args.
func runSimulate(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return exec(t, append([]string{"simulate"}, args...)...)
}

func TestSimulateWritesTableAndChart(t *testing.T) {
	manifest, scenario := copyTestdata(t, "priority-outage")
	code, out, errs := runSimulate(t, manifest, scenario)
	if code != 0 || errs != "" {
		t.Fatalf("exit status %d, stderr %q; want 0 and nothing", code, errs)
	}
	svgFile := strings.TrimSuffix(scenario, ".yaml") + ".svg"
	for _, want := range []string{
		"virtual model support-bot/chat (priority-based-routing), seed 1\n",
		"TARGET ", "azure-main/gpt-4o ", "openai-main/gpt-4o ", "503×",
		"callers: 600 calls, 0 failed (0.0%); end-to-end p50 ",
		"\nchart: " + svgFile + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	svg, err := os.ReadFile(svgFile)
	if err != nil {
		t.Fatalf("the chart was not written next to the scenario: %v", err)
	}
	if cells, windows := strings.Count(string(svg), `class="cell"`), strings.Count(string(svg), `class="window"`); cells == 0 || windows != 1 {
		t.Errorf("chart has %d cells and %d windows; want cells and the outage", cells, windows)
	}
}

func TestSimulateFlags(t *testing.T) {
	manifest, scenario := copyTestdata(t, "canary")
	svgFile := filepath.Join(t.TempDir(), "out.svg")

	// Flags before, between and after the files; overrides apply.
	code, out, errs := runSimulate(t, "-seed", "5", manifest, "-requests=50", scenario, "-svg", svgFile, "-series", "-bucket", "5s")
	if code != 0 {
		t.Fatalf("exit status %d, stderr %q", code, errs)
	}
	for _, want := range []string{"seed 5\n", "callers: 50 calls", "FROM  TO   CALLS", "\nchart: " + svgFile + "\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(svgFile); err != nil {
		t.Errorf("-svg FILE: %v", err)
	}

	// Two runs alike give the same output.
	_, again, _ := runSimulate(t, "-seed", "5", manifest, "-requests=50", scenario, "-svg", svgFile, "-series", "-bucket", "5s")
	if again != out {
		t.Errorf("same arguments, different output:\n%s\n---\n%s", out, again)
	}

	// -svg "" writes no chart.
	code, out, _ = runSimulate(t, manifest, scenario, "-svg", "")
	if code != 0 || strings.Contains(out, "chart:") {
		t.Errorf("-svg \"\": code %d, output mentions a chart:\n%s", code, out)
	}
	if _, err := os.Stat(strings.TrimSuffix(scenario, ".yaml") + ".svg"); !os.IsNotExist(err) {
		t.Errorf("-svg \"\" wrote the default chart (stat: %v)", err)
	}
}

func TestSimulateProblems(t *testing.T) {
	manifest, scenario := copyTestdata(t, "canary")
	dir := t.TempDir()
	badScenario := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badScenario, []byte("requests: 10\ntargets:\n  openai-main/gpt-4o:\n    latency: {p50_ms: 10, p99: 20}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign.yaml")
	if err := os.WriteFile(foreign, []byte("requests: 10\ntargets:\n  nobody/m: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badManifest := filepath.Join(dir, "manifest.yaml")
	if err := os.WriteFile(badManifest, []byte("name: x\ntype: provider-account/virtual-model\nintegrations: []\nextra: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A wrong command line exits 2, a problem in a file 1.
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // in stderr
	}{
		{"no arguments", nil, 2, []string{"want MANIFEST and SCENARIO, got 0 file(s)", "usage: llmroute simulate"}},
		{"one file", []string{manifest}, 2, []string{"got 1 file(s)"}},
		{"three files", []string{manifest, scenario, scenario}, 2, []string{"got 3 file(s)"}},
		{"unknown flag", []string{"-fast", manifest, scenario}, 2, []string{"flag provided but not defined: -fast", "usage:"}},
		{"bad flag value", []string{manifest, scenario, "-seed", "x"}, 2, []string{`invalid value "x" for flag -seed`, "usage:"}},
		{"bad requests", []string{manifest, scenario, "-requests", "0"}, 2, []string{"-requests: want at least 1, got 0"}},
		{"bad bucket", []string{manifest, scenario, "-bucket", "-1s"}, 2, []string{"-bucket: want a positive duration"}},
		{"missing manifest", []string{filepath.Join(dir, "nope.yaml"), scenario}, 1, []string{"nope.yaml: no such file"}},
		{"missing scenario", []string{manifest, filepath.Join(dir, "nope.yaml")}, 1, []string{"nope.yaml: no such file"}},
		{"bad scenario", []string{manifest, badScenario}, 1, []string{
			badScenario + `:4: targets["openai-main/gpt-4o"].latency.p99: unknown key "p99" (did you mean "p99_ms"?)`,
		}},
		{"scenario against manifest", []string{manifest, foreign}, 1, []string{
			foreign + `:3: targets["nobody/m"]: not a target of search/rerank-chat`,
		}},
		{"bad manifest", []string{badManifest, scenario}, 1, []string{badManifest + ":4: "}},
		{"unwritable chart", []string{manifest, scenario, "-svg", filepath.Join(dir, "no", "such", "dir.svg")}, 1, []string{"llmroute simulate: open "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runSimulate(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d", code, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
		})
	}
}

func TestSimulateHelp(t *testing.T) {
	code, out, _ := runSimulate(t, "-h")
	if code != 0 || !strings.HasPrefix(out, "usage: llmroute simulate MANIFEST SCENARIO [flags]") {
		t.Errorf("-h: code %d, stdout %q; want 0 and the usage", code, out)
	}
}
