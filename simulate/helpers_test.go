package simulate_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/llmroute/llmroute/simulate"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// run starts none.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// read returns a file of testdata.
func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runFiles runs testdata's NAME.manifest.yaml with NAME.scenario.yaml.
func runFiles(t *testing.T, name string) *simulate.Result {
	t.Helper()
	sc, err := simulate.ParseScenario(read(t, name+".scenario.yaml"))
	if err != nil {
		t.Fatalf("ParseScenario: %v", err)
	}
	return run(t, read(t, name+".manifest.yaml"), sc)
}

// runEdited runs testdata's NAME files as runFiles does, with the
// manifest's line old (which it must have) replaced by new.
func runEdited(t *testing.T, name, old, new string) *simulate.Result {
	t.Helper()
	manifest := string(read(t, name+".manifest.yaml"))
	if !strings.Contains(manifest, old) {
		t.Fatalf("%s.manifest.yaml has no line %q", name, old)
	}
	sc, err := simulate.ParseScenario(read(t, name+".scenario.yaml"))
	if err != nil {
		t.Fatalf("ParseScenario: %v", err)
	}
	return run(t, []byte(strings.Replace(manifest, old, new, 1)), sc)
}

func run(t *testing.T, manifest []byte, sc *simulate.Scenario) *simulate.Result {
	t.Helper()
	res, err := simulate.Run(context.Background(), manifest, sc)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func parse(t *testing.T, yaml string) *simulate.Scenario {
	t.Helper()
	sc, err := simulate.ParseScenario([]byte(yaml))
	if err != nil {
		t.Fatalf("ParseScenario: %v", err)
	}
	return sc
}

// target returns the stats of ref in res.
func target(t *testing.T, res *simulate.Result, ref string) (int, simulate.TargetStats) {
	t.Helper()
	for i, ts := range res.Targets {
		if ts.Target == ref {
			return i, ts
		}
	}
	t.Fatalf("no target %q in the result", ref)
	return 0, simulate.TargetStats{}
}

// svgCell is a <rect class="cell"> of a chart.
type svgCell struct {
	Series   string
	Bucket   int
	From, To time.Duration
	Calls    int
	Count    int
	Share    float64
}

// svgWindow is a <rect class="window"> of a chart.
type svgWindow struct {
	Kind, Target string
	From, To     time.Duration
}

// readSVG parses a chart as XML (so it must be well formed) and returns
// its cells and windows.
func readSVG(t *testing.T, data []byte) (cells []svgCell, windows []svgWindow) {
	t.Helper()
	for _, a := range svgElements(t, data, "rect") {
		switch a["class"] {
		case "cell":
			cells = append(cells, svgCell{
				Series: a["data-series"], Bucket: atoi(t, a["data-bucket"]),
				From: msAttr(t, a["data-from-ms"]), To: msAttr(t, a["data-to-ms"]),
				Calls: atoi(t, a["data-calls"]), Count: atoi(t, a["data-count"]), Share: atof(t, a["data-share"]),
			})
		case "window":
			windows = append(windows, svgWindow{
				Kind: a["data-kind"], Target: a["data-target"],
				From: msAttr(t, a["data-from-ms"]), To: msAttr(t, a["data-to-ms"]),
			})
		}
	}
	return cells, windows
}

// svgElements parses a chart as XML (so it must be well formed, with an
// svg root in the SVG namespace) and returns the attributes of each of
// its elements named name.
func svgElements(t *testing.T, data []byte, name string) []map[string]string {
	t.Helper()
	var out []map[string]string
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root {
			root = false
			if el.Name.Local != "svg" || el.Name.Space != "http://www.w3.org/2000/svg" {
				t.Fatalf("root element is %v, want svg in the SVG namespace", el.Name)
			}
		}
		if el.Name.Local != name {
			continue
		}
		a := map[string]string{}
		for _, at := range el.Attr {
			a[at.Name.Local] = at.Value
		}
		out = append(out, a)
	}
	return out
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("attribute %q: %v", s, err)
	}
	return n
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("attribute %q: %v", s, err)
	}
	return f
}

func msAttr(t *testing.T, s string) time.Duration {
	return time.Duration(atoi(t, s)) * time.Millisecond
}
