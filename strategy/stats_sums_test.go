package strategy

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// rescan is what a target's published summary must say as of now: every
// window summed afresh from the ring, as a reader that rescans all
// samples would. mean is the weighted mean TPOT before rounding, in µs.
type rescan struct {
	n, tn, sn, stn    uint64
	tsum, ssum, stsum uint64
	mean              float64
	slow              uint64
}

func rescanOf(t *tstat, now int64) rescan {
	var r rescan
	var wsum, wtotal float64
	for k := range t.n {
		s := &t.ring[k]
		if s.at <= now-int64(statsWindow) {
			continue
		}
		r.n++
		wsum += s.w * float64(s.tpot)
		wtotal += s.w
		if s.failure() {
			continue
		}
		r.slow = max(r.slow, uint64(s.tpot))
		if s.ttft > 0 {
			r.tn++
			r.tsum += uint64(s.ttft)
		}
		if s.at > now-int64(slaWindow) {
			r.sn++
			r.ssum += uint64(s.tpot)
			if s.ttft > 0 {
				r.stn++
				r.stsum += uint64(s.ttft)
			}
		}
	}
	if wtotal > 0 {
		r.mean = wsum / wtotal
	}
	return r
}

// TestStatsRunningSumsMatchRescan drives targets through random
// outcomes (in and out of order, with gaps past each window and past the
// epoch's age, failures and forgotten failures) and reads, and checks
// after each step that the published summary is what summing the ring
// afresh gives.
func TestStatsRunningSumsMatchRescan(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		s, err := NewStats(1)
		if err != nil {
			t.Fatal(err)
		}
		ts := &s.t[0]
		at := time.Unix(1_700_000_000, 0)
		for step := range 5000 {
			switch r := rng.IntN(1000); {
			case r < 5:
				at = at.Add(time.Duration(rng.Int64N(int64(25 * time.Minute))))
			case r < 6:
				at = at.Add(maxEpochAge + time.Duration(rng.Int64N(int64(time.Hour))))
			case r < 100:
				// Out of order: an outcome that ended before the last.
				at = at.Add(-time.Duration(rng.Int64N(int64(4 * time.Minute))))
			default:
				at = at.Add(time.Duration(rng.Int64N(int64(5 * time.Second))))
			}
			o := Outcome{
				Start:        at.Add(-time.Second),
				Latency:      time.Second + time.Duration(rng.Int64N(int64(2*time.Second))),
				OutputTokens: rng.IntN(200),
				Status:       200,
			}
			if rng.IntN(2) == 0 {
				o.TTFT = time.Duration(rng.Int64N(int64(o.Latency)))
			}
			switch r := rng.IntN(100); {
			case r < 10:
				s.record(o, true)
			case r < 11:
				s.forgetFailures(0)
			case r < 20:
				s.Summary(0, at.Add(time.Duration(rng.Int64N(int64(25*time.Minute)))))
			default:
				s.record(o, false)
			}
			ts.mu.Lock()
			want := rescanOf(ts, ts.now)
			ts.mu.Unlock()
			n, mean := unpack(ts.lat.Load())
			tn, ttft := unpack(ts.ttft.Load())
			sn, slaTPOT := unpack(ts.slaTPOT.Load())
			stn, slaTTFT := unpack(ts.slaTTFT.Load())
			got := [...]uint64{uint64(n), uint64(tn), uint64(ttft), uint64(sn), uint64(slaTPOT), uint64(stn), uint64(slaTTFT), uint64(ts.slow.Load())}
			exp := [...]uint64{
				want.n, want.tn, meanNanos(want.tn, want.tsum), want.sn, meanNanos(want.sn, want.ssum),
				want.stn, meanNanos(want.stn, want.stsum), want.slow * uint64(time.Microsecond),
			}
			if got != exp {
				t.Fatalf("seed %d step %d: published (n, tn, ttft, sn, sla tpot, stn, sla ttft, slow) = %v; rescan gives %v", seed, step, got, exp)
			}
			// The weighted mean is rounded to the µs: it must be the
			// rescan's, unless that lies within float rounding of a
			// half.
			wantMean := math.Floor(want.mean + 0.5)
			if n == 0 {
				wantMean = 0
			}
			if gotMean := float64(mean / time.Microsecond); gotMean != wantMean {
				if frac := want.mean - math.Floor(want.mean); math.Abs(frac-0.5) > 1e-6 {
					t.Fatalf("seed %d step %d: weighted mean %vµs; rescan gives %vµs (%v)", seed, step, gotMean, wantMean, want.mean)
				}
			}
		}
	}
}

// meanNanos is pack's mean of n samples summing to sum µs, in ns.
func meanNanos(n, sum uint64) uint64 {
	_, d := unpack(pack(n, sum))
	return uint64(d)
}
