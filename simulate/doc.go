// Package simulate replays traffic through a virtual model in virtual
// time, so that a routing configuration can be checked before it is
// deployed: what share of calls each target takes, how many retries and
// fallbacks an outage costs, what callers see. It is the engine of
// "llmroute simulate":
//
//	llmroute simulate MANIFEST SCENARIO [-svg FILE] [-series] [-seed N] [-requests N] [-bucket D]
//
// MANIFEST is a manifest in the format of package routing; SCENARIO is a
// YAML file saying how many calls to make, how often, and how each target
// behaves over time. The command prints a table per target and writes an
// SVG chart of the traffic share per target over time (by default next to
// SCENARIO, with the extension .svg). From Go:
//
//	sc, err := simulate.ParseScenario(scenarioYAML)
//	if err != nil { ... }               // an ErrorList naming each field
//	res, err := simulate.Run(ctx, manifestYAML, sc)
//	if err != nil { ... }
//	res.WriteTable(os.Stdout)
//	res.WriteSVG(svgFile)
//
// # How a run works
//
// Run builds a real routing.Client from the manifest, registers a
// simulated provider for every account its targets name, and calls the
// virtual model Requests times (Chat, or Completion or Embed when the
// model serves no chat), reading each call's routing.Trace. Nothing
// sleeps: the Client is given a virtual clock (routing.WithClock) on
// which a simulated provider waits out each call's latency and the
// Client waits out its back-offs. Ten minutes of traffic take well under
// a second.
//
// Calls overlap as they do in production. Each starts at its scheduled
// time (every Interval, or at Poisson-distributed gaps) on a goroutine of
// its own, whatever the calls before it are doing, so a slow target
// builds up calls in flight (the table's header says how many at most).
// A hedged call's tries run side by side, its hedge timer on the virtual
// clock too, and the loser is cancelled as it would be. Virtual time
// moves on to the next event (an answer, a back-off's end, a hedge timer,
// a new call) only once every goroutine of the run is waiting for one,
// so each reads the time it woke at; events of one instant go answers
// first, then timers, then new calls.
//
// A simulated call draws its latency from the target's distribution at
// the virtual time it starts, applies the windows active then, and fails
// or succeeds as they say. A call slower than the target's
// request_timeout_ms (from the manifest, the target's own or the routing
// default) ends at the timeout with status 408, as a timed-out attempt
// does in production. Everything random, the routing's draws and the
// providers', comes from PCG generators seeded by the scenario's seed: the
// same manifest and scenario give the same output, byte for byte.
//
// Groups with collaborators are simulated too: the run's calls come from
// Subject, made a Client admin.
//
// # Scenario files
//
//	model: support-bot/chat     # "group/model" or slug; optional when the manifest has one
//	requests: 600               # required
//	interval: 1s                # between scheduled starts (default 1s); or rate: 2 (per second)
//	arrivals: fixed             # fixed (default) or poisson
//	seed: 1                     # default 0
//	bucket: 15s                 # time series bucket; default: round, at most 60 buckets
//	replicas: 20                # Clients serving the calls in turn (default 1)
//	shared_state: true          # they share health and rate limits (default false)
//	profiles:                   # the request mix, drawn by weight; optional
//	  - name: eu
//	    weight: 2               # default 1
//	    metadata: {tfy_gateway_region: EU}
//	    headers: {x-client: web}
//	    session: {source: headers, key: x-session-id, count: 50}   # for sticky routing
//	targets:                    # by "account/model"; a target left out gets the defaults
//	  azure-main/gpt-4o:
//	    latency: {p50_ms: 400, p99_ms: 1200}   # log-normal; or {fixed_ms: 400}; default 500/1500
//	    output_tokens: 150      # default 100
//	    error_rate: 0.01        # failures outside windows, 0..1; default 0
//	    error_status: 500       # default 500
//	    error_latency_ms: 50    # how long every failure takes; default 50
//	    windows:                # from/to: durations since the start; no to = until the end
//	      - {kind: outage, from: 3m, to: 6m}                  # every call fails; status default 503
//	      - {kind: rate_limit, from: 1m, to: 2m, rate: 0.8, retry_after: 20s}  # status 429; rate default 1
//	      - {kind: errors, from: 7m, to: 8m, rate: 0.3, status: 502, retry_after: 1s}
//	      - {kind: latency, from: 5m, factor: 4, add_ms: 100}   # or latency: {...} to replace it
//
// Durations (interval, bucket, from, to, retry_after) are Go durations
// such as "90s" or "2m30s"; fields ending in _ms are whole milliseconds.
// Status codes may be numbers or strings ("503"). Windows apply in the
// order written: the first that fails a call sets its status; every
// latency window applies (replace, then multiply, then add). Unknown keys
// and fields a window's kind does not use are errors; every error names
// its field and line.
//
// # Fleets
//
// With replicas: N, the calls are dealt in turn to N replicas of the
// service, each its own routing.Client on the same virtual clock. With
// shared_state: true they share target health and rate-limit budgets
// through one simulated store, as a fleet does with stores/redis
// (routing.WithSharedHealth, routing.WithLimiter, routing.WithReplicas):
// failures are counted for the fleet, so the failures that demote a
// target may come from any replica, and one probe per cooldown tests it
// fleet-wide. Without it each replica judges health and keeps budgets on
// its own, and an outage costs a detection and a stream of probes per
// replica. testdata/fleet-outage.scenario.yaml shows the difference.
//
// # Output
//
// The table has a row per target of the virtual model: SERVED and SHARE
// (calls it answered), ATTEMPTS (every try on it), RETRIES (tries that
// repeated a failed one on it), FALLBACKS (first tries on it after another
// target failed the call), PROBES (tries testing its recovery while it
// was unhealthy), ERRORS (failed tries) with FAILED TRIES by status, and
// P50/P99 of its tries' latency; when any call passed a target over at
// its rate limit, SKIPPED counts those passes (not tries); when any call
// hedged, HEDGES counts the tries started beside a late one and
// CANCELLED the tries cancelled because another answered first (neither
// counted as failures). Then the callers' view: calls, calls that failed
// (by final status, or "rate limited"), and end-to-end p50/p99, retries,
// waits and fallbacks included. WriteSeries prints, per time bucket, the
// calls, the upstream tries per call, the end-to-end p50/p99 and the
// share per target; WriteSVG draws the shares as a stacked area chart
// with the windows shaded, and under it the latency and the tries per
// call as lines. Its elements carry their numbers as data-* attributes.
//
// # Hedging and retry budgets
//
// testdata/heavy-tail.scenario.yaml sends 5 calls a second to a primary
// whose latency has a heavy tail (p50 800 ms, p99 8 s), with a steady
// backup; its manifest hedges after the primary's own 92nd percentile.
// Hedging cuts the callers' p99 from 7.6 s to 4.3 s for 8% more upstream
// calls, the p50 unchanged. testdata/total-outage.scenario.yaml takes
// both of a model's deployments down for two minutes while 20 calls a
// second arrive at 10 replicas: the retry budget holds the calls made
// during the outage to 1.26 upstream tries each, against 1.52 without it,
// and the onset's calls in flight to 411 against 620. Each manifest says
// which line to change to compare, and
//
//	go test -v -run 'TestHedgingCutsTheHeavyTail|TestRetryBudgetInTotalOutage' ./simulate
//
// runs both pairs and logs these figures.
package simulate
