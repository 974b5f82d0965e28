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
// long it took (and the wait before it, when there was one):
//
//	grp/chat → acct/b, 3 attempts
//	  acct/a  try 1  500  retry     picked    12ms
//	  acct/a  try 2  500  fallback  picked    10ms  after 124ms
//	  acct/b  try 1  200  ok        fallback  20ms
//
// Targets skipped at their rate limits follow, one line each, with when
// they free up, then the Trace's notes. Format with %+v adds each failed attempt's error. A nil Trace prints
// "<nil>".
func (tr *Trace) String() string { return tr.format(false) }

// Format implements fmt.Formatter: %v and %s print String, %+v adds the
// errors.
func (tr *Trace) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v', 's':
		fmt.Fprint(f, tr.format(verb == 'v' && f.Flag('+')))
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
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
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
		if a.TTFT > 0 {
			extra = append(extra, "ttft "+a.TTFT.Round(time.Millisecond).String())
		}
		if len(extra) > 0 {
			fmt.Fprintf(tw, "\t%s", strings.Join(extra, ", "))
		}
		if errs && a.Err != nil {
			fmt.Fprintf(tw, "\t%v", a.Err)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, s := range tr.Skipped {
		b.WriteString("  skipped ")
		b.WriteString(s.Target)
		b.WriteString(": ")
		b.WriteString(s.Reason.String())
		b.WriteString(", free in ")
		b.WriteString(s.FreeAt.Sub(s.At).Round(time.Millisecond).String())
		b.WriteByte('\n')
	}
	for _, note := range tr.Notes {
		b.WriteString("  note: ")
		b.WriteString(note)
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}
