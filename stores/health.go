package stores

import (
	"context"
	"errors"
	"sync"
	"time"
)

// HealthStore shares the health of virtual models' targets among the
// replicas of a service, so that one replica's failures demote a target
// for all of them and one probe per cooldown tests its recovery, whichever
// replica makes it. Routing uses one when asked to
// (routing.WithSharedHealth); without one, each replica judges health on
// its own.
//
// A target's shared state is a record (unhealthy since when, and until
// when unless it recovers first), the ends of its recent failures, the
// start of the call that last recovered it, and a probe lock:
//
//   - ReportHealth with Failed counts a failure. When Failures of them end
//     within Window, the target is unhealthy from the last one's End until
//     End+Window, and its probe is locked for Cooldown (Demoted). A
//     failure while it is unhealthy extends Until to End+Window and locks
//     the probe for Cooldown again. A failure of a call that started
//     before the target last recovered is ignored.
//   - ReportHealth without Failed is a success: when the target is
//     unhealthy and the call started at or after Since, it is healthy
//     again (Recovered): its record, failures and probe lock are cleared.
//   - ClaimProbe takes the probe lock of an unhealthy target for
//     Cooldown; it succeeds for one caller per lock, fleet-wide.
//   - Records expire at Until, so a record no replica renews does not
//     outlive its window, even if the replica that wrote it went away.
//
// Implementations must be safe for concurrent use and must answer or
// fail promptly. A HealthStore error never fails a call: routing falls
// back to the replica's own view of health and tells its observers.
type HealthStore interface {
	LoadHealth(ctx context.Context, q HealthQuery) (HealthState, error)
	ReportHealth(ctx context.Context, r HealthReport) (HealthResult, error)
	ClaimProbe(ctx context.Context, c ProbeClaim) (ProbeResult, error)
}

// HealthQuery asks for the records of a virtual model's targets.
type HealthQuery struct {
	// Model is the virtual model, "group/model"; Targets its targets,
	// "account/model".
	Model   string
	Targets []string
	// Now is the time of the query: a record whose Until is not after
	// Now is expired.
	Now time.Time
}

// HealthState is the answer to a HealthQuery.
type HealthState struct {
	// Records holds one record per target of the query, in its order;
	// the zero record is a healthy target.
	Records []HealthRecord
}

// HealthRecord is a target's shared health. Its zero value is healthy.
type HealthRecord struct {
	// Since is when the target turned unhealthy; Until is when it is
	// healthy again unless a success comes first.
	Since, Until time.Time
}

// Down reports whether r says the target is unhealthy at now.
func (r HealthRecord) Down(now time.Time) bool { return now.Before(r.Until) }

// HealthReport is one attempt's outcome on a target.
type HealthReport struct {
	// Model and Target name the target.
	Model, Target string
	// Failed is set for a failure that counts against health (5xx,
	// 429, 401, 403, 408, a transport failure); a success leaves it
	// unset. Other outcomes are not reported.
	Failed bool
	// Start and End are when the attempt began and ended.
	Start, End time.Time
	// Failures within Window make the target unhealthy; Cooldown is how
	// long its probe stays locked after a demotion or a failed probe
	// (0: not at all).
	Failures int
	Window   time.Duration
	Cooldown time.Duration
}

// HealthResult is what a report changed.
type HealthResult struct {
	// Record is the target's record after the report.
	Record HealthRecord
	// Demoted is set when this report made the target unhealthy;
	// Recovered when it made it healthy again. Exactly one report sees
	// each change, whichever replica sent it.
	Demoted, Recovered bool
}

// ProbeClaim asks for an unhealthy target's probe.
type ProbeClaim struct {
	// Model and Target name the target.
	Model, Target string
	// Cooldown is how long the claim locks the probe.
	Cooldown time.Duration
	// Now is the time of the claim.
	Now time.Time
}

// ProbeResult is the answer to a ProbeClaim.
type ProbeResult struct {
	// Claimed is set when the caller may probe the target: it is
	// unhealthy and no probe lock was held.
	Claimed bool
}

// Errors for health input a HealthStore cannot make sense of.
var (
	errHealthName   = errors.New("stores: health model and target must not be empty")
	errHealthReport = errors.New("stores: health report needs Failures >= 1, a positive Window and Cooldown >= 0")
	errProbeClaim   = errors.New("stores: probe claim needs a positive Cooldown")
)

// CheckHealthReport returns an error when r cannot be recorded: no model
// or target, Failures < 1, Window <= 0 or Cooldown < 0. Every HealthStore
// checks a report with it first.
func CheckHealthReport(r HealthReport) error {
	switch {
	case r.Model == "" || r.Target == "":
		return errHealthName
	case r.Failures < 1 || r.Window <= 0 || r.Cooldown < 0:
		return errHealthReport
	}
	return nil
}

// CheckProbeClaim returns an error when c cannot be claimed: no model or
// target, or Cooldown <= 0.
func CheckProbeClaim(c ProbeClaim) error {
	switch {
	case c.Model == "" || c.Target == "":
		return errHealthName
	case c.Cooldown <= 0:
		return errProbeClaim
	}
	return nil
}

// CheckHealthQuery returns an error when q names no model or an empty
// target.
func CheckHealthQuery(q HealthQuery) error {
	if q.Model == "" {
		return errHealthName
	}
	for _, t := range q.Targets {
		if t == "" {
			return errHealthName
		}
	}
	return nil
}

// memHealth is the health a Memory keeps, by model and target.
type memHealth struct {
	mu      sync.Mutex
	targets map[healthKey]*healthEntry
}

type healthKey struct{ model, target string }

// healthEntry is one target's shared state; times are Unix ns, 0 for
// none.
type healthEntry struct {
	since, until int64
	fails        []int64 // ends of recent failures, while healthy
	healed       int64   // start of the call that last recovered it
	healedUntil  int64   // when healed stops mattering
	probeUntil   int64   // the probe is locked until then
}

// expired drops what has run out at now, and reports whether nothing is
// left.
func (e *healthEntry) expired(now int64) bool {
	if e.until != 0 && now >= e.until {
		e.since, e.until, e.probeUntil = 0, 0, 0
	}
	if e.healedUntil != 0 && now >= e.healedUntil {
		e.healed, e.healedUntil = 0, 0
	}
	return e.until == 0 && len(e.fails) == 0 && e.healed == 0
}

func (e *healthEntry) record() HealthRecord {
	if e.until == 0 {
		return HealthRecord{}
	}
	return HealthRecord{Since: time.Unix(0, e.since), Until: time.Unix(0, e.until)}
}

var _ HealthStore = (*Memory)(nil)

// LoadHealth implements [HealthStore].
func (m *Memory) LoadHealth(_ context.Context, q HealthQuery) (HealthState, error) {
	if err := CheckHealthQuery(q); err != nil {
		return HealthState{}, err
	}
	out := HealthState{Records: make([]HealthRecord, len(q.Targets))}
	now := q.Now.UnixNano()
	h := &m.health
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, t := range q.Targets {
		k := healthKey{q.Model, t}
		if e := h.targets[k]; e != nil {
			if e.expired(now) {
				delete(h.targets, k)
				continue
			}
			out.Records[i] = e.record()
		}
	}
	return out, nil
}

// ReportHealth implements [HealthStore].
func (m *Memory) ReportHealth(_ context.Context, r HealthReport) (HealthResult, error) {
	if err := CheckHealthReport(r); err != nil {
		return HealthResult{}, err
	}
	start, end := r.Start.UnixNano(), r.End.UnixNano()
	h := &m.health
	h.mu.Lock()
	defer h.mu.Unlock()
	k := healthKey{r.Model, r.Target}
	e := h.targets[k]
	if e == nil {
		if !r.Failed {
			return HealthResult{}, nil
		}
		if h.targets == nil {
			h.targets = map[healthKey]*healthEntry{}
		}
		e = &healthEntry{}
		h.targets[k] = e
	}
	e.expired(end)
	var res HealthResult
	switch {
	case !r.Failed:
		if e.until != 0 && start >= e.since {
			*e = healthEntry{healed: start, healedUntil: end + int64(r.Window)}
			res.Recovered = true
		}
	case start < e.healed:
		// From before the last recovery: it says nothing now.
	case e.until != 0:
		e.until = max(e.until, end+int64(r.Window))
		if r.Cooldown > 0 {
			e.probeUntil = max(e.probeUntil, end+int64(r.Cooldown))
		}
	default:
		fails := e.fails[:0]
		for _, f := range e.fails {
			if f > end-int64(r.Window) {
				fails = append(fails, f)
			}
		}
		e.fails = append(fails, end)
		if len(e.fails) >= r.Failures {
			e.fails = nil
			e.since, e.until = end, end+int64(r.Window)
			e.probeUntil = 0
			if r.Cooldown > 0 {
				e.probeUntil = end + int64(r.Cooldown)
			}
			res.Demoted = true
		}
	}
	res.Record = e.record()
	return res, nil
}

// ClaimProbe implements [HealthStore].
func (m *Memory) ClaimProbe(_ context.Context, c ProbeClaim) (ProbeResult, error) {
	if err := CheckProbeClaim(c); err != nil {
		return ProbeResult{}, err
	}
	now := c.Now.UnixNano()
	h := &m.health
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.targets[healthKey{c.Model, c.Target}]
	if e == nil {
		return ProbeResult{}, nil
	}
	e.expired(now)
	if e.until == 0 || now < e.probeUntil {
		return ProbeResult{}, nil
	}
	e.probeUntil = now + int64(c.Cooldown)
	return ProbeResult{Claimed: true}, nil
}
