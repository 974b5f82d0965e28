package simulate

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmroute/llmroute/internal/httpheader"
	"github.com/llmroute/llmroute/internal/problems"
	"github.com/llmroute/llmroute/internal/yamlread"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/slug"
)

// Scenario is the traffic a run replays and how each target behaves. It
// is a plain value: build one in Go, or read one from YAML with
// ParseScenario. The zero value of each field means its documented
// default; Run validates the whole Scenario first. Run and Validate only
// read it, so one Scenario may serve concurrent runs.
type Scenario struct {
	// Model is the virtual model called, "group/model" or a slug. Empty
	// means the manifest's only virtual model.
	Model string
	// Requests is how many calls are replayed; at least 1.
	Requests int
	// Interval is the virtual time between two scheduled call starts;
	// 0 means DefaultInterval. Each call starts at its scheduled time,
	// whether or not the calls before it have ended.
	Interval time.Duration
	// Arrivals spaces the scheduled starts: Fixed (the default) every
	// Interval, Poisson at exponentially distributed gaps whose mean is
	// Interval.
	Arrivals Arrivals
	// Seed seeds every random draw of the run, the routing's and the
	// simulated providers'; the same Scenario and manifest give the same
	// Result. 0 is a seed like any other.
	Seed uint64
	// Bucket is the width of the time series' buckets; 0 picks a round
	// width that gives at most 60 buckets.
	Bucket time.Duration
	// Profiles are the kinds of request, drawn by weight for each call.
	// None means every call carries no metadata and no headers.
	Profiles []Profile
	// Targets sets how each target of the virtual model behaves, by
	// "account/model". A target not listed behaves as a zero Behavior.
	Targets map[string]Behavior
	// Replicas is how many replicas of the service serve the calls,
	// each its own routing.Client on the same virtual clock, the calls
	// dealt to them in turn; 0 means 1, at most MaxReplicas.
	Replicas int
	// SharedState makes the replicas share target health and rate-limit
	// budgets through one simulated store, as a fleet does with
	// stores/redis (routing.WithSharedHealth, routing.WithLimiter).
	// Without it each replica judges health and keeps budgets alone.
	SharedState bool

	lines *yamlread.Lines // line of each path, when parsed from YAML
}

// Defaults of a Scenario.
const (
	DefaultInterval     = time.Second
	DefaultSessions     = 100
	DefaultOutputTokens = 100
	DefaultErrorStatus  = 500
	DefaultErrorLatency = 50 * time.Millisecond
	DefaultOutageStatus = 503
	DefaultLimitStatus  = 429
	// MaxRequests bounds Scenario.Requests.
	MaxRequests = 1_000_000
	// MaxBuckets bounds how many buckets a run's time series has.
	MaxBuckets = 10_000
	// MaxReplicas bounds Scenario.Replicas.
	MaxReplicas = 1000
)

// The latency of a target whose Behavior sets none: log-normal with
// these percentiles.
const (
	DefaultP50 = 500 * time.Millisecond
	DefaultP99 = 1500 * time.Millisecond
)

// Arrivals is how scheduled call starts are spaced.
type Arrivals string

// Arrival processes.
const (
	Fixed   Arrivals = "fixed"
	Poisson Arrivals = "poisson"
)

// Profile is one kind of request in the traffic mix.
type Profile struct {
	// Name labels the profile in errors; optional.
	Name string
	// Weight is the profile's relative share of calls; 0 means 1.
	Weight int
	// Metadata is the request metadata (metadata_match, session
	// identifiers read from metadata).
	Metadata map[string]string
	// Headers are the request headers (session identifiers read from
	// headers).
	Headers map[string]string
	// Session, when set, gives each call one of Session.Count session
	// values, for sticky routing.
	Session *Session
}

// Session spreads a profile's calls over a number of sessions.
type Session struct {
	// Source is "headers" or "metadata".
	Source string
	// Key is the header or metadata key that carries the session value.
	Key string
	// Count is how many distinct sessions there are, each drawn
	// uniformly; 0 means DefaultSessions.
	Count int
}

// Behavior is how a simulated target answers. Windows change it for a
// span of virtual time.
type Behavior struct {
	// Latency is the time a successful call takes; zero means a
	// log-normal through DefaultP50 and DefaultP99. A call slower than the target's request_timeout_ms
	// (from the manifest) ends at the timeout as a 408.
	Latency Latency
	// OutputTokens is every successful response's completion tokens;
	// 0 means DefaultOutputTokens.
	OutputTokens int
	// ErrorRate is the probability, 0 to 1, that a call fails with
	// ErrorStatus outside every window that fails it.
	ErrorRate float64
	// ErrorStatus is the status of those failures; 0 means
	// DefaultErrorStatus.
	ErrorStatus int
	// ErrorLatency is how long every failed call takes; 0 means
	// DefaultErrorLatency.
	ErrorLatency time.Duration
	// Windows override the behaviour from From to To, in order: the
	// first window that fails a call decides its status; latency windows
	// all apply.
	Windows []Window
}

// Latency is a distribution of call latency: Fixed, or a log-normal
// distribution through P50 and P99. Set one or the other.
type Latency struct {
	// P50 and P99 are the median and the 99th percentile.
	P50, P99 time.Duration
	// Fixed is every call's latency.
	Fixed time.Duration
}

// IsZero reports whether l sets no distribution.
func (l Latency) IsZero() bool { return l == Latency{} }

// WindowKind is what a window does to a target.
type WindowKind string

// Window kinds.
const (
	// Outage fails every call with Status (default 503).
	Outage WindowKind = "outage"
	// RateLimit fails a share Rate of calls (default all) with Status
	// (default 429) and RetryAfter.
	RateLimit WindowKind = "rate_limit"
	// Errors fails a share Rate of calls with Status (default 500) and
	// RetryAfter.
	Errors WindowKind = "errors"
	// Slow changes latency: Latency replaces the distribution, then
	// Factor multiplies and Add adds.
	Slow WindowKind = "latency"
)

var windowKinds = []WindowKind{Outage, RateLimit, Errors, Slow}

// Window overrides a target's behaviour for a span of virtual time.
type Window struct {
	// Kind is what the window does; required.
	Kind WindowKind
	// From and To bound the window, as virtual time since the run's
	// start; To 0 means until the end of the run.
	From, To time.Duration
	// Status is the failure status (Outage, RateLimit, Errors); 0 means
	// the kind's default.
	Status int
	// Rate is the probability, 0 to 1, that a call fails (RateLimit:
	// 0 means 1; Errors: required).
	Rate float64
	// RetryAfter is the Retry-After sent with a failure (RateLimit,
	// Errors); 0 sends none.
	RetryAfter time.Duration
	// Factor multiplies latency (Slow); 0 means 1.
	Factor float64
	// Add is added to latency (Slow).
	Add time.Duration
	// Latency, when set, replaces the latency distribution (Slow).
	Latency Latency
}

// active reports whether w covers offset.
func (w *Window) active(offset time.Duration) bool {
	return offset >= w.From && (w.To == 0 || offset < w.To)
}

// Validate checks s on its own, without the manifest, and reports every
// problem at once as an ErrorList, each naming its field as the YAML form
// spells it.
func (s *Scenario) Validate() error {
	if errs := s.validate(); len(errs) > 0 {
		return errs
	}
	return nil
}

// validate is Validate's list of problems, leaving out those about fields
// that could not be read from the file (reported when they were read).
func (s *Scenario) validate() ErrorList {
	v := validator{lines: s.lines}
	if s.Requests < 1 || s.Requests > MaxRequests {
		v.errorf("requests", "want 1 to %d calls, got %d", MaxRequests, s.Requests)
	}
	if s.Interval < 0 {
		v.errorf("interval", "must not be negative, got %v", s.Interval)
	}
	if s.Arrivals != "" && s.Arrivals != Fixed && s.Arrivals != Poisson {
		v.errorf("arrivals", "want %q or %q, got %q", Fixed, Poisson, s.Arrivals)
	}
	if s.Replicas < 0 || s.Replicas > MaxReplicas {
		v.errorf("replicas", "want 1 to %d replicas, got %d", MaxReplicas, s.Replicas)
	}
	if s.Bucket < 0 {
		v.errorf("bucket", "must not be negative, got %v", s.Bucket)
	} else if s.Bucket > 0 && s.Bucket < time.Millisecond {
		v.errorf("bucket", "want at least 1ms, got %v", s.Bucket)
	}
	for i := range s.Profiles {
		v.profile(yamlread.Index("profiles", i), &s.Profiles[i])
	}
	for _, ref := range slices.Sorted(maps.Keys(s.Targets)) {
		b := s.Targets[ref]
		v.behavior(yamlread.Join("targets", ref), ref, &b)
	}
	return v.errs
}

// validator collects problems with their paths.
type validator struct {
	errs  ErrorList
	lines *yamlread.Lines
}

// errorf reports a problem at path, unless what is there could not be
// read from the file: that was reported already, and the value checked is
// not what was written.
func (v *validator) errorf(path, format string, args ...any) {
	if v.lines.Failed(path) {
		return
	}
	v.errs = append(v.errs, &FieldError{Path: path, Line: v.lines.Line(path), Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

func (v *validator) profile(p string, pr *Profile) {
	if pr.Weight < 0 {
		v.errorf(p+".weight", "must not be negative, got %d", pr.Weight)
	}
	for _, k := range slices.Sorted(maps.Keys(pr.Metadata)) {
		if k == "" {
			v.errorf(p+".metadata", "empty key")
		}
		if n := len(pr.Metadata[k]); n > 128 {
			v.errorf(yamlread.Join(p+".metadata", k), "values are at most 128 characters, got %d", n)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(pr.Headers)) {
		if !httpheader.ValidName(k) {
			v.errorf(p+".headers", "invalid header name %q", k)
		}
		if !httpheader.ValidValue(pr.Headers[k]) {
			v.errorf(yamlread.Join(p+".headers", k), "a header value must not hold CR, LF or NUL")
		}
	}
	if s := pr.Session; s != nil {
		sp := p + ".session"
		switch s.Source {
		case "headers":
			if s.Key != "" && !httpheader.ValidName(s.Key) {
				v.errorf(sp+".key", "invalid header name %q", s.Key)
			}
		case "metadata":
		case "":
			v.errorf(sp+".source", "required: \"headers\" or \"metadata\"")
		default:
			v.errorf(sp+".source", "want \"headers\" or \"metadata\", got %q", s.Source)
		}
		if s.Key == "" {
			v.errorf(sp+".key", "required")
		}
		if s.Count < 0 {
			v.errorf(sp+".count", "must not be negative, got %d", s.Count)
		}
	}
}

func (v *validator) behavior(p, ref string, b *Behavior) {
	if _, err := slug.ParseRef(ref); err != nil {
		v.errorf(p, "not a target reference \"account/model\": %v", err)
	}
	v.latency(p+".latency", b.Latency)
	if b.OutputTokens < 0 {
		v.errorf(p+".output_tokens", "must not be negative, got %d", b.OutputTokens)
	}
	v.rate(p+".error_rate", b.ErrorRate)
	if b.ErrorStatus != 0 {
		v.status(p+".error_status", b.ErrorStatus)
	}
	if b.ErrorLatency < 0 {
		v.errorf(p+".error_latency_ms", "must not be negative, got %v", b.ErrorLatency)
	}
	for i := range b.Windows {
		v.window(yamlread.Index(p+".windows", i), &b.Windows[i])
	}
}

func (v *validator) latency(p string, l Latency) {
	switch {
	case l.IsZero():
	case l.Fixed != 0 && (l.P50 != 0 || l.P99 != 0):
		v.errorf(p, "set fixed_ms or p50_ms and p99_ms, not both")
	case l.Fixed < 0:
		v.errorf(p+".fixed_ms", "must be positive, got %v", l.Fixed)
	case l.Fixed > 0:
	case l.P50 <= 0:
		v.errorf(p+".p50_ms", "must be positive, got %v", l.P50)
	case l.P99 < l.P50:
		v.errorf(p+".p99_ms", "must be at least p50_ms (%v), got %v", l.P50, l.P99)
	}
}

func (v *validator) rate(p string, r float64) {
	if math.IsNaN(r) || r < 0 || r > 1 {
		v.errorf(p, "want a probability from 0 to 1, got %v", r)
	}
}

func (v *validator) status(p string, s int) {
	if s < 400 || s > 599 {
		v.errorf(p, "want a failure status from 400 to 599, got %d", s)
	}
}

func (v *validator) window(p string, w *Window) {
	if w.From < 0 {
		v.errorf(p+".from", "must not be negative, got %v", w.From)
	}
	if w.To != 0 && w.To <= w.From {
		v.errorf(p+".to", "must be after from (%v), got %v", w.From, w.To)
	}
	// Each kind uses some fields; a field it does not use is a mistake
	// (a rate on an outage, say), not something to ignore quietly.
	uses := map[string]bool{}
	switch w.Kind {
	case Outage:
		uses["status"] = true
	case RateLimit:
		uses["status"], uses["rate"], uses["retry_after"] = true, true, true
	case Errors:
		uses["status"], uses["rate"], uses["retry_after"] = true, true, true
		if w.Rate == 0 {
			v.errorf(p+".rate", "required for kind %q", w.Kind)
		}
	case Slow:
		uses["factor"], uses["add_ms"], uses["latency"] = true, true, true
		if w.Factor == 0 && w.Add == 0 && w.Latency.IsZero() && v.lines.Clean(p+".factor") && v.lines.Clean(p+".add_ms") && v.lines.Clean(p+".latency") {
			v.errorf(p, "kind %q needs factor, add_ms or latency", w.Kind)
		}
	case "":
		v.errorf(p+".kind", "required: one of %s", kindList())
		return
	default:
		v.errorf(p+".kind", "want one of %s, got %q", kindList(), w.Kind)
		return
	}
	set := map[string]bool{
		"status": w.Status != 0, "rate": w.Rate != 0, "retry_after": w.RetryAfter != 0,
		"factor": w.Factor != 0, "add_ms": w.Add != 0, "latency": !w.Latency.IsZero(),
	}
	for _, f := range []string{"status", "rate", "retry_after", "factor", "add_ms", "latency"} {
		if set[f] && !uses[f] {
			v.errorf(p+"."+f, "not used by kind %q", w.Kind)
		}
	}
	if w.Status != 0 && uses["status"] {
		v.status(p+".status", w.Status)
	}
	if uses["rate"] {
		v.rate(p+".rate", w.Rate)
	}
	if w.RetryAfter < 0 {
		v.errorf(p+".retry_after", "must not be negative, got %v", w.RetryAfter)
	}
	if math.IsNaN(w.Factor) || math.IsInf(w.Factor, 0) || w.Factor < 0 {
		v.errorf(p+".factor", "must be positive, got %v", w.Factor)
	}
	if w.Add < 0 {
		v.errorf(p+".add_ms", "must not be negative, got %v", w.Add)
	}
	if uses["latency"] {
		v.latency(p+".latency", w.Latency)
	}
}

func kindList() string {
	names := make([]string, len(windowKinds))
	for i, k := range windowKinds {
		names[i] = strconv.Quote(string(k))
	}
	return strings.Join(names, ", ")
}

// FieldError is one problem in a scenario, naming its field by its path
// in the YAML form (such as `targets["azure/gpt-4o"].windows[0].to`) and
// its line in the scenario file (0 when unknown). It is the manifest's
// problem type; a scenario's problems leave Group empty.
type FieldError = routing.FieldError

// ErrorList is every problem found in a scenario.
type ErrorList []*FieldError

func (es ErrorList) Error() string { return problems.Text("simulate: scenario: ", es) }

// Unwrap exposes each problem to errors.As.
func (es ErrorList) Unwrap() []error { return problems.Unwrap(es) }
