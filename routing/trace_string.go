package routing

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// String describes the call for a person: the virtual model and the
// target that served it, then one line for each attempt, in the order they
// finished, with its target, try, status, outcome, why it was tried and how
// long it took, then what else is known of it: the wait before it, whether
// it was a hedge, whether the retry budget stopped a retry, the time to
// first token (streams) and the time per output token:
//
//	grp/chat → acct/b, 3 attempts
//	  acct/a  try 1  500  retry     picked    12ms
//	  acct/a  try 2  500  fallback  picked    10ms  after 124ms
//	  acct/b  try 1  200  ok        fallback  20ms  ttft 8ms, tpot 2ms
//
// Targets skipped follow, one line each, with why (ineligible for the
// request's metadata, or at a rate limit, with when it frees up), then
// the Trace's notes:
//
//	grp/chat → acct/b, 1 attempt
//	  acct/b  try 1  200  ok  fallback  20ms
//	  skipped acct/a: rate_limit, free in 20s
//
// A nil Trace prints "<nil>".
func (tr *Trace) String() string { return tr.format(false) }

// Format implements fmt.Formatter: %v and %s print String, and %+v adds
// each failed attempt's error. A width indents every line after the first
// by that many spaces, so that a Trace begun on an indented line keeps its
// attempts under it:
//
//	fmt.Printf("  call 1: %2v\n", tr) // the attempts start at column 4
func (tr *Trace) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v', 's':
		s := tr.format(verb == 'v' && f.Flag('+'))
		if w, ok := f.Width(); ok && w > 0 {
			s = strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", w))
		}
		fmt.Fprint(f, s)
	default:
		fmt.Fprintf(f, "%%!%c(*routing.Trace)", verb)
	}
}

func (tr *Trace) format(errs bool) string {
	if tr == nil {
		return "<nil>"
	}
	var b strings.Builder
	model := tr.VirtualModel
	if model == "" {
		model = tr.Model
	}
	b.WriteString(model)
	if tr.Resolved != "" {
		b.WriteString(" → ")
		b.WriteString(tr.Resolved)
	} else {
		b.WriteString(": not served")
	}
	n := len(tr.Attempts)
	b.WriteString(", ")
	b.WriteString(strconv.Itoa(n))
	b.WriteString(plural(n, " attempt", " attempts"))
	b.WriteByte('\n')
	var rows strings.Builder
	tw := tabwriter.NewWriter(&rows, 0, 4, 2, ' ', 0)
	for i := range tr.Attempts {
		a := &tr.Attempts[i]
		fmt.Fprintf(tw, "  %s\ttry %d\t%d\t%s\t%s\t%v", a.Target, a.Try, a.Status, a.Class, a.Why(), a.Duration.Round(time.Millisecond))
		var extra []string
		if a.Wait > 0 {
			extra = append(extra, "after "+a.Wait.Round(time.Millisecond).String())
		}
		if a.Hedge {
			extra = append(extra, "hedge")
		}
		if a.BudgetExhausted {
			extra = append(extra, "retry budget exhausted")
		}
		// The times per token show when they are a millisecond or more:
		// below that they say nothing a person reading the call needs.
		if ttft := a.TTFT.Round(time.Millisecond); ttft > 0 {
			extra = append(extra, "ttft "+ttft.String())
		}
		if tpot := a.TPOT.Round(time.Millisecond); tpot > 0 {
			extra = append(extra, "tpot "+tpot.String())
		}
		switch extras := strings.Join(extra, ", "); {
		case errs:
			// Every line ends its extras' cell, even empty, so that
			// the errors line up in a column of their own.
			fmt.Fprintf(tw, "\t%s\t", extras)
			if a.Err != nil {
				fmt.Fprint(tw, a.Err)
			}
		case extras != "":
			fmt.Fprintf(tw, "\t%s", extras)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for line := range strings.Lines(rows.String()) {
		// With errors, a line without one ends in padding.
		b.WriteString(strings.TrimRight(line, " \n"))
		b.WriteByte('\n')
	}
	for _, s := range tr.Skipped {
		b.WriteString("  skipped ")
		b.WriteString(s.Target)
		b.WriteString(": ")
		b.WriteString(s.Reason.String())
		if !s.FreeAt.IsZero() {
			b.WriteString(", free in ")
			b.WriteString(s.FreeAt.Sub(s.At).Round(time.Millisecond).String())
		}
		b.WriteByte('\n')
	}
	for _, note := range tr.Notes {
		b.WriteString("  note: ")
		b.WriteString(note)
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}
