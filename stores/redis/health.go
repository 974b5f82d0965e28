package redis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/llmroute/llmroute/stores"
)

var _ stores.HealthStore = (*Store)(nil)

// A target's shared health is four keys under health prefix +
// "{model}:" + target (the model in braces puts a model's keys in one
// hash slot, for Cluster): ":down", the record, "since until" in Unix ms;
// ":fails", a sorted set of recent failures by end time; ":probe", the
// probe lock; ":healed", the start of the call that last recovered it.
// Every key expires with what it says.

// report applies one outcome (see stores.HealthStore) atomically.
// KEYS: down, fails, probe, healed. ARGV: failed ("1"), start, end (Unix
// ms), failures, window, cooldown (ms), a member unique to this report.
// It returns {demoted, recovered, since, until}.
var report = goredis.NewScript(`
local since, untl = 0, 0
local down = redis.call('GET', KEYS[1])
if down then
  local a, b = string.match(down, '^(%d+) (%d+)$')
  since, untl = tonumber(a) or 0, tonumber(b) or 0
end
local start, e = tonumber(ARGV[2]), tonumber(ARGV[3])
local n, window, cooldown = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if untl <= e then
  since, untl = 0, 0
end
if ARGV[1] ~= '1' then
  if untl > 0 and start >= since then
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
    redis.call('SET', KEYS[4], start, 'PX', window)
    return {0, 1, 0, 0}
  end
  return {0, 0, since, untl}
end
local healed = tonumber(redis.call('GET', KEYS[4]) or '0') or 0
if start < healed then
  return {0, 0, since, untl}
end
if untl > 0 then
  if e + window > untl then
    untl = e + window
  end
  redis.call('SET', KEYS[1], since .. ' ' .. untl, 'PX', untl - e)
  if cooldown > 0 then
    redis.call('SET', KEYS[3], '1', 'PX', cooldown)
  end
  return {0, 0, since, untl}
end
redis.call('ZADD', KEYS[2], e, ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', e - window)
redis.call('PEXPIRE', KEYS[2], window)
if redis.call('ZCARD', KEYS[2]) < n then
  return {0, 0, 0, 0}
end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[1], e .. ' ' .. (e + window), 'PX', window)
if cooldown > 0 then
  redis.call('SET', KEYS[3], '1', 'PX', cooldown)
else
  redis.call('DEL', KEYS[3])
end
return {1, 0, e, e + window}
`)

// claim takes the probe lock of an unhealthy target. KEYS: down, probe.
// ARGV: cooldown (ms), now (Unix ms). It returns 1 when claimed.
var claim = goredis.NewScript(`
local down = redis.call('GET', KEYS[1])
if not down then
  return 0
end
local untl = tonumber(string.match(down, ' (%d+)$')) or 0
if untl <= tonumber(ARGV[2]) then
  return 0
end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  return 1
end
return 0
`)

// healthKey is the prefix of a target's keys.
func (s *Store) healthKey(model, target string) string {
	return s.healthPrefix + "{" + model + "}:" + target
}

// LoadHealth implements [stores.HealthStore]: one MGET of the targets'
// records.
func (s *Store) LoadHealth(ctx context.Context, q stores.HealthQuery) (stores.HealthState, error) {
	if s.client == nil {
		return stores.HealthState{}, errNoClient
	}
	if err := stores.CheckHealthQuery(q); err != nil {
		return stores.HealthState{}, err
	}
	out := stores.HealthState{Records: make([]stores.HealthRecord, len(q.Targets))}
	if len(q.Targets) == 0 {
		return out, nil
	}
	keys := make([]string, len(q.Targets))
	for i, t := range q.Targets {
		keys[i] = s.healthKey(q.Model, t) + ":down"
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return stores.HealthState{}, fmt.Errorf("stores/redis: load health: %w", err)
	}
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		if rec, ok := parseRecord(str); ok && rec.Down(q.Now) {
			out.Records[i] = rec
		}
	}
	return out, nil
}

// parseRecord reads "since until" in Unix ms.
func parseRecord(v string) (stores.HealthRecord, bool) {
	a, b, ok := strings.Cut(v, " ")
	if !ok {
		return stores.HealthRecord{}, false
	}
	since, err1 := strconv.ParseInt(a, 10, 64)
	until, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || until <= since {
		return stores.HealthRecord{}, false
	}
	return stores.HealthRecord{Since: time.UnixMilli(since), Until: time.UnixMilli(until)}, true
}

// ReportHealth implements [stores.HealthStore]: one EVALSHA of a script
// that counts the failure (or applies the success) and demotes (or
// recovers) the target atomically, so exactly one report sees each
// change.
func (s *Store) ReportHealth(ctx context.Context, r stores.HealthReport) (stores.HealthResult, error) {
	if s.client == nil {
		return stores.HealthResult{}, errNoClient
	}
	if err := stores.CheckHealthReport(r); err != nil {
		return stores.HealthResult{}, err
	}
	failed := "0"
	if r.Failed {
		failed = "1"
	}
	base := s.healthKey(r.Model, r.Target)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	got, err := report.Run(ctx, s.client, []string{base + ":down", base + ":fails", base + ":probe", base + ":healed"},
		failed, r.Start.UnixMilli(), r.End.UnixMilli(), r.Failures,
		max(r.Window.Milliseconds(), 1), r.Cooldown.Milliseconds(),
		strconv.FormatUint(rand.Uint64(), 36)).Int64Slice()
	if err != nil {
		return stores.HealthResult{}, fmt.Errorf("stores/redis: report health: %w", err)
	}
	if len(got) != 4 {
		return stores.HealthResult{}, errors.New("stores/redis: report health: unexpected answer")
	}
	res := stores.HealthResult{Demoted: got[0] == 1, Recovered: got[1] == 1}
	if got[3] > got[2] && got[2] > 0 {
		res.Record = stores.HealthRecord{Since: time.UnixMilli(got[2]), Until: time.UnixMilli(got[3])}
	}
	return res, nil
}

// ClaimProbe implements [stores.HealthStore]: a SET probe NX PX
// cooldown, made only while the target's record says it is unhealthy.
func (s *Store) ClaimProbe(ctx context.Context, c stores.ProbeClaim) (stores.ProbeResult, error) {
	if s.client == nil {
		return stores.ProbeResult{}, errNoClient
	}
	if err := stores.CheckProbeClaim(c); err != nil {
		return stores.ProbeResult{}, err
	}
	base := s.healthKey(c.Model, c.Target)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	got, err := claim.Run(ctx, s.client, []string{base + ":down", base + ":probe"},
		max(c.Cooldown.Milliseconds(), 1), c.Now.UnixMilli()).Int64()
	if err != nil {
		return stores.ProbeResult{}, fmt.Errorf("stores/redis: claim probe: %w", err)
	}
	return stores.ProbeResult{Claimed: got == 1}, nil
}
