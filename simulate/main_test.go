package simulate_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmroute/llmroute/simulate"
)

// copyTestdata copies testdata's NAME manifest and scenario into a
// temporary directory, so that the chart written next to the scenario
// lands there, and returns their paths.
func copyTestdata(t *testing.T, name string) (manifest, scenario string) {
	t.Helper()
	dir := t.TempDir()
	manifest = filepath.Join(dir, name+".manifest.yaml")
	scenario = filepath.Join(dir, name+".scenario.yaml")
	if err := os.WriteFile(manifest, read(t, name+".manifest.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scenario, read(t, name+".scenario.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	return manifest, scenario
}

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = simulate.Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestMainSuccessWritesTableAndChart(t *testing.T) {
	manifest, scenario := copyTestdata(t, "priority-outage")
	code, out, errs := runMain(t, manifest, scenario)
	if code != 0 || errs != "" {
		t.Fatalf("Main = %d, stderr %q; want 0 and nothing", code, errs)
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
	if cells, windows := readSVG(t, svg); len(cells) == 0 || len(windows) != 1 {
		t.Errorf("chart has %d cells and %d windows; want cells and the outage", len(cells), len(windows))
	}
}

func TestMainFlags(t *testing.T) {
	manifest, scenario := copyTestdata(t, "canary")
	svgFile := filepath.Join(t.TempDir(), "out.svg")

	// Flags before, between and after the files; overrides apply.
	code, out, errs := runMain(t, "-seed", "5", manifest, "-requests=50", scenario, "-svg", svgFile, "-series", "-bucket", "5s")
	if code != 0 {
		t.Fatalf("Main = %d, stderr %q", code, errs)
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
	_, again, _ := runMain(t, "-seed", "5", manifest, "-requests=50", scenario, "-svg", svgFile, "-series", "-bucket", "5s")
	if again != out {
		t.Errorf("same arguments, different output:\n%s\n---\n%s", out, again)
	}

	// -svg "" writes no chart.
	code, out, _ = runMain(t, manifest, scenario, "-svg", "")
	if code != 0 || strings.Contains(out, "chart:") {
		t.Errorf("-svg \"\": code %d, output mentions a chart:\n%s", code, out)
	}
	if _, err := os.Stat(strings.TrimSuffix(scenario, ".yaml") + ".svg"); !os.IsNotExist(err) {
		t.Errorf("-svg \"\" wrote the default chart (stat: %v)", err)
	}
}

func TestMainProblems(t *testing.T) {
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
	for _, tc := range []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"no arguments", nil, []string{"want MANIFEST and SCENARIO, got 0 file(s)", "usage: llmroute simulate"}},
		{"one file", []string{manifest}, []string{"got 1 file(s)"}},
		{"three files", []string{manifest, scenario, scenario}, []string{"got 3 file(s)"}},
		{"unknown flag", []string{"-fast", manifest, scenario}, []string{"flag provided but not defined: -fast", "usage:"}},
		{"bad requests", []string{manifest, scenario, "-requests", "0"}, []string{"-requests: want at least 1, got 0"}},
		{"bad bucket", []string{manifest, scenario, "-bucket", "-1s"}, []string{"-bucket: want a positive duration"}},
		{"missing manifest", []string{filepath.Join(dir, "nope.yaml"), scenario}, []string{"nope.yaml: no such file"}},
		{"missing scenario", []string{manifest, filepath.Join(dir, "nope.yaml")}, []string{"nope.yaml: no such file"}},
		{"bad scenario", []string{manifest, badScenario}, []string{
			badScenario + `:4: targets["openai-main/gpt-4o"].latency.p99: unknown key "p99" (did you mean "p99_ms"?)`,
		}},
		{"scenario against manifest", []string{manifest, foreign}, []string{
			foreign + `:3: targets["nobody/m"]: not a target of search/rerank-chat`,
		}},
		{"bad manifest", []string{badManifest, scenario}, []string{badManifest + ":4: "}},
		{"unwritable chart", []string{manifest, scenario, "-svg", filepath.Join(dir, "no", "such", "dir.svg")}, []string{"llmroute simulate: open "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runMain(t, tc.args...)
			if code != 1 {
				t.Errorf("Main = %d, want 1", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
		})
	}
}

func TestMainHelp(t *testing.T) {
	code, out, _ := runMain(t, "-h")
	if code != 0 || !strings.HasPrefix(out, "usage: llmroute simulate MANIFEST SCENARIO [flags]") {
		t.Errorf("-h: code %d, stdout %q; want 0 and the usage", code, out)
	}
}
