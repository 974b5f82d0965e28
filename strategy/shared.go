package strategy

import "time"

// Counts says how an outcome counts for a target's health: a success
// (no error, a status below 400), a failure (5xx, 429, 401, 403, 408, a
// transport failure), or neither (any other 4xx says nothing about the
// target). It is the judgement [Health] applies, for code that shares
// health beyond one Health.
func Counts(o Outcome) (success, failure bool) {
	switch classify(o) {
	case outcomeOK:
		return true, false
	case outcomeBad:
		return false, true
	}
	return false, false
}

// Settings returns h's failure count, window and cooldown, the defaults
// filled in.
func (h *Health) Settings() (failures int, window, cooldown time.Duration) {
	return h.failures, time.Duration(h.window), time.Duration(h.cooldown)
}

// Adopt makes target i unhealthy from failures, from since until until,
// as a record shared by other replicas says: its next probe is due one
// cooldown after since, unless a later one is already set. It reports
// Demoted when the target was healthy before (from failures; an SLA
// breach is h's own). An index out of range, or an until not after
// since, changes nothing.
func (h *Health) Adopt(i int, since, until time.Time) Change {
	if i < 0 || i >= len(h.t) {
		return Unchanged
	}
	s, u := unixNano(since), unixNano(until)
	if u <= s {
		return Unchanged
	}
	t := &h.t[i]
	if t.until.Load() == u && t.since.Load() == s {
		// Every call of a replica reads the shared records: the same
		// record again costs two loads, no lock.
		return Unchanged
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.until.Load() != 0
	if t.until.Load() == u && t.since.Load() == s {
		return Unchanged
	}
	t.until.Store(u)
	t.since.Store(s)
	if p := s + h.cooldown; t.probeAt.Load() < p {
		t.probeAt.Store(p)
	}
	if h.KeepsStats() && !was {
		h.stats.forgetFailures(i)
	}
	if was {
		return Unchanged
	}
	return Demoted
}

// Clear makes target i healthy from failures when a record shared by
// other replicas says it is (one saw it recover, or the record expired):
// if it is unhealthy from failures, its failures are forgotten, failures
// of attempts that started before at are ignored, and Clear reports
// Recovered. A healthy target is left as it is, the failures it has
// counted included, at the cost of one load.
func (h *Health) Clear(i int, at time.Time) Change {
	if i < 0 || i >= len(h.t) {
		return Unchanged
	}
	t := &h.t[i]
	if t.until.Load() == 0 {
		return Unchanged
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.until.Load() != 0
	t.heal(unixNano(at))
	if was {
		return Recovered
	}
	return Unchanged
}
