package simulate

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WriteTable writes r as text: a header, one row per target and the
// callers' totals.
//
//	TARGET              SERVED  SHARE  ATTEMPTS  RETRIES  FALLBACKS  PROBES  ERRORS  P50    P99    FAILED TRIES
//	azure-main/gpt-4o      430  71.7%      ...
//
// SERVED and SHARE count the calls a target answered; ATTEMPTS every try
// on it; RETRIES the tries that repeated a failed one on it; FALLBACKS the
// first tries on it after another target failed the call; PROBES the
// tries that tested its recovery while unhealthy; ERRORS its failed tries,
// broken down by status in FAILED TRIES; P50 and P99 the latency of its
// tries. SKIPPED, shown when any call passed a target over at its rate
// limit, counts those passes. HEDGES and CANCELLED, shown when any call
// hedged, count the tries started beside a late one and the tries
// cancelled because another answered first. The header says how many
// calls ran at most at once and how many upstream tries they made, and
// whether several replicas served them.
func (r *Result) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "virtual model %s (%s), seed %d", r.Model, r.Routing, r.Seed)
	if r.Replicas > 1 {
		state := "each on its own"
		if r.SharedState {
			state = "sharing health and rate limits"
		}
		fmt.Fprintf(bw, "; %d replicas, %s", r.Replicas, state)
	}
	bw.WriteString("\n")
	fmt.Fprintf(bw, "%d calls over %s of virtual time", r.Calls, fmtSpan(r.Duration))
	fmt.Fprintf(bw, ", at most %d at once; %d upstream tries (%s a call)", r.MaxInFlight, r.Tries, strconv.FormatFloat(ratio(r.Tries, r.Calls), 'f', 2, 64))
	bw.WriteString("\n\n")

	skips, hedges := false, false
	for _, t := range r.Targets {
		skips = skips || t.Skips > 0
		hedges = hedges || t.Hedges > 0
	}
	head := []string{"TARGET", "SERVED", "SHARE", "ATTEMPTS", "RETRIES", "FALLBACKS", "PROBES"}
	if hedges {
		head = append(head, "HEDGES", "CANCELLED")
	}
	head = append(head, "ERRORS")
	if skips {
		head = append(head, "SKIPPED")
	}
	left := len(head)
	head = append(head, "P50", "P99", "FAILED TRIES")
	rows := [][]string{head}
	for _, t := range r.Targets {
		row := []string{
			t.Target, strconv.Itoa(t.Served), pct(t.Share), strconv.Itoa(t.Attempts),
			strconv.Itoa(t.Retries), strconv.Itoa(t.Fallbacks), strconv.Itoa(t.Probes),
		}
		if hedges {
			row = append(row, strconv.Itoa(t.Hedges), strconv.Itoa(t.Cancelled))
		}
		row = append(row, strconv.Itoa(t.Errors))
		if skips {
			row = append(row, strconv.Itoa(t.Skips))
		}
		row = append(row, fmtLatency(t.P50, t.Attempts), fmtLatency(t.P99, t.Attempts), byStatus(t.ErrorsBy))
		rows = append(rows, row)
	}
	writeColumns(bw, rows, func(col int) bool { return col == 0 || col >= left })

	fmt.Fprintf(bw, "\ncallers: %d calls, %d failed (%s)", r.Calls, r.Failed, pct(ratio(r.Failed, r.Calls)))
	if r.Failed > 0 {
		bw.WriteString(": ")
		bw.WriteString(byKind(r.FailedBy))
	}
	fmt.Fprintf(bw, "; end-to-end p50 %s, p99 %s\n", fmtLatency(r.P50, r.Calls), fmtLatency(r.P99, r.Calls))
	return bw.Flush()
}

// WriteSeries writes r's time series as text: one row per bucket, with
// the calls that started in it, how many failed, the upstream tries they
// made per call, their end-to-end p50 and p99, and each target's share.
func (r *Result) WriteSeries(w io.Writer) error {
	bw := bufio.NewWriter(w)
	head := []string{"FROM", "TO", "CALLS", "FAILED", "TRIES/CALL", "P50", "P99"}
	for _, t := range r.Targets {
		head = append(head, t.Target)
	}
	rows := [][]string{head}
	for i := range r.Series {
		b := &r.Series[i]
		row := []string{fmtOffset(b.From), fmtOffset(b.To), strconv.Itoa(b.Calls), strconv.Itoa(b.Failed),
			"-", fmtLatency(b.P50, b.Calls), fmtLatency(b.P99, b.Calls)}
		if b.Calls > 0 {
			row[4] = strconv.FormatFloat(ratio(b.Tries, b.Calls), 'f', 2, 64)
		}
		for ti := range r.Targets {
			if b.Calls == 0 {
				row = append(row, "-")
			} else {
				row = append(row, pct(b.Share(ti)))
			}
		}
		rows = append(rows, row)
	}
	writeColumns(bw, rows, func(col int) bool { return col < 2 })
	return bw.Flush()
}

// writeColumns writes rows as aligned columns two spaces apart; left
// reports which columns are left-aligned (the others are right-aligned).
func writeColumns(w *bufio.Writer, rows [][]string, left func(int) bool) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-len([]rune(cell)))
			if left(i) {
				line.WriteString(cell)
				if i < len(row)-1 {
					line.WriteString(pad)
				}
			} else {
				line.WriteString(pad)
				line.WriteString(cell)
			}
		}
		w.WriteString(strings.TrimRight(line.String(), " "))
		w.WriteByte('\n')
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// byStatus lists failures by status, most frequent first: "503×12 408×2".
func byStatus(m map[int]int) string {
	if len(m) == 0 {
		return "-"
	}
	s := make(map[string]int, len(m))
	for k, v := range m {
		s[strconv.Itoa(k)] = v
	}
	return byKind(s)
}

func byKind(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "×" + strconv.Itoa(m[k])
	}
	return strings.Join(parts, " ")
}

// fmtLatency shows a latency at a useful precision; "-" when there were
// no samples.
func fmtLatency(d time.Duration, samples int) string {
	switch {
	case samples == 0:
		return "-"
	case d < time.Second:
		return strconv.FormatInt(int64(math.Round(float64(d)/float64(time.Millisecond))), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
	return fmtOffset(d.Round(time.Second))
}

// fmtSpan shows the length of a run.
func fmtSpan(d time.Duration) string {
	if d < time.Minute {
		return fmtLatency(d, 1)
	}
	return fmtOffset(d.Round(time.Second))
}

// fmtOffset shows a time since the run's start without zero units:
// "90s" is "1m30s", "2m0s" is "2m".
func fmtOffset(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
