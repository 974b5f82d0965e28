package providertest

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The suite finds the goroutines a call started by labelling the
// goroutine that makes the call: every goroutine started from it, and from
// those, inherits the label (a profiler label, see runtime/pprof). The
// count is exact whatever else the test binary runs (parallel tests, the
// loopback server's own goroutines), so it needs no baseline and no
// tolerance.
const labelKey = "llmroute.providertest.call"

var callSeq atomic.Int64

// tracked runs f with a fresh label and returns that label.
func tracked(f func()) string {
	id := strconv.FormatInt(callSeq.Add(1), 10)
	pprof.Do(context.Background(), pprof.Labels(labelKey, id), func(context.Context) { f() })
	return id
}

// leakWait is how long the goroutines a call started may take to end
// after it returned: they only need to notice a closed connection or a
// done channel, so this bounds a hang, not a speed.
var leakWait = 5 * time.Second

// noLeak fails t if goroutines labelled id are still running leakWait
// after the call that started them returned, listing their stacks.
func noLeak(t *testing.T, what, id string) {
	t.Helper()
	deadline := time.Now().Add(leakWait)
	for {
		n, stacks := labelled(id)
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: %d goroutine(s) it started still running %v after it returned; want none:\n\n%s",
				what, n, leakWait, strings.Join(stacks, "\n\n"))
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// labelled returns how many goroutines are labelled id, and their
// stacks as the goroutine profile prints them: one record per group of
// goroutines with the same stack, starting with the group's size.
func labelled(id string) (int, []string) {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
	want := `"` + labelKey + `":"` + id + `"`
	n := 0
	var stacks []string
	for _, rec := range strings.Split(buf.String(), "\n\n") {
		if !strings.Contains(rec, want) {
			continue
		}
		rec = strings.TrimSpace(rec)
		size, _, _ := strings.Cut(rec, " ")
		k, err := strconv.Atoi(size)
		if err != nil {
			k = 1
		}
		n += k
		stacks = append(stacks, rec)
	}
	return n, stacks
}
