package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/llmroute/llmroute/stores"
)

var _ stores.Limiter = (*Store)(nil)

// take is GCRA over a budget's two amounts at once, in one round trip,
// on the server's clock, which every replica shares. A budget is kept as
// the time (Unix µs) at which it is whole again: KEYS[1] for requests,
// KEYS[2] for tokens. ARGV: the cost of each in µs (0: not charged;
// negative: given back), the period in µs, and "1" for a debt. It
// returns {1, 0} when both were charged, or {0, wait in µs} when neither
// was. Each key expires when its budget is whole again.
//
// It is the arithmetic of stores.MemoryLimiter, and of go-redis/redis_rate
// for one amount; it is written here because a charge must check and take
// both amounts together, and must also charge a debt and give back an
// estimate that was too high, which redis_rate's AllowN cannot.
var take = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local period = tonumber(ARGV[3])
local debt = ARGV[4] == '1'
local nexts = {}
local wait = 0
for i = 1, 2 do
  local cost = tonumber(ARGV[i])
  if cost ~= 0 then
    local tat = tonumber(redis.call('GET', KEYS[i]) or now) or now
    if tat < now then tat = now end
    local nxt = tat + cost
    if cost < 0 then
      if nxt < now then nxt = now end
    elseif debt then
      if nxt > now + 2 * period then nxt = now + 2 * period end
    elseif nxt > now + period and nxt - now - period > wait then
      wait = nxt - now - period
    end
    nexts[i] = nxt
  end
end
if wait > 0 then
  return {0, wait}
end
for i = 1, 2 do
  local nxt = nexts[i]
  if nxt then
    if nxt > now then
      redis.call('SET', KEYS[i], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000))
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
return {1, 0}
`)

// Take implements [stores.Limiter]: one EVALSHA (EVAL the first time) of
// a GCRA script over the budget's requests and tokens, under the keys
// limit prefix + "{" + key + "}:r" and ":t" (one hash slot, for Cluster).
// Times are the Redis server's, so replicas whose clocks differ still
// share one budget; t.Now is not read.
func (s *Store) Take(ctx context.Context, t stores.Take) (stores.Taken, error) {
	if s.client == nil {
		return stores.Taken{}, errNoClient
	}
	if err := stores.CheckTake(t); err != nil {
		return stores.Taken{}, err
	}
	if t.Limit.IsZero() || t.Requests == 0 && t.Tokens == 0 {
		return stores.Taken{Allowed: true}, nil
	}
	period := t.Limit.Period
	if period == 0 {
		period = time.Minute
	}
	req := micros(stores.Cost(t.Requests, t.Limit.Requests, period, t.Debt))
	tok := micros(stores.Cost(t.Tokens, t.Limit.Tokens, period, t.Debt))
	if req == 0 && tok == 0 {
		return stores.Taken{Allowed: true}, nil
	}
	debt := "0"
	if t.Debt {
		debt = "1"
	}
	base := s.limitPrefix + "{" + t.Key + "}:"
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	got, err := take.Run(ctx, s.client, []string{base + "r", base + "t"}, req, tok, micros(period), debt).Int64Slice()
	if err != nil {
		return stores.Taken{}, fmt.Errorf("stores/redis: take: %w", err)
	}
	if len(got) != 2 {
		return stores.Taken{}, fmt.Errorf("stores/redis: take: unexpected answer %v", got)
	}
	if got[0] == 1 {
		return stores.Taken{Allowed: true}, nil
	}
	return stores.Taken{RetryAfter: time.Duration(got[1]) * time.Microsecond}, nil
}

// micros is d in whole microseconds: a charge rounded up, so a unit is
// never free, and a refund rounded towards zero, so it never gives back
// more than was taken.
func micros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	if d > 0 && d%time.Microsecond != 0 {
		us++
	}
	return us
}
