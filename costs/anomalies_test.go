package costs_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/costs"
)

// TestDetectPrecisionRecall builds synthetic daily spend with weekly
// seasonality (weekends at half) and noise, injects spikes and drops on 3 %
// of the days, and measures precision and recall of Detect.
func TestDetectPrecisionRecall(t *testing.T) {
	cases := []struct {
		name                    string
		seed                    uint64
		noise                   float64 // ± relative
		spikeMin, spikeMax      float64 // multipliers
		dropMin, dropMax        float64
		minPrecision, minRecall float64
	}{
		{"large/seed1", 1, 0.08, 2, 4, 0.1, 0.4, 0.95, 0.95},
		{"large/seed2", 2, 0.08, 2, 4, 0.1, 0.4, 0.95, 0.95},
		{"large/seed3", 3, 0.08, 2, 4, 0.1, 0.4, 0.95, 0.95},
		{"subtle/seed4", 4, 0.10, 1.4, 1.8, 0.4, 0.65, 0.9, 0.7},
		{"noisy/seed5", 5, 0.20, 2, 4, 0.1, 0.4, 0.9, 0.8},
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const nDays, report = 240, 56
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(c.seed, 99))
			var tp, fp, fn int
			for s := 0; s < 40; s++ {
				level := 20 + rng.Float64()*480
				days := make([]time.Time, nDays)
				vals := make([]decimal.Decimal, nDays)
				injected := map[int]bool{}
				for i := range days {
					days[i] = start.AddDate(0, 0, i)
					v := level * (1 - c.noise + 2*c.noise*rng.Float64())
					if wd := days[i].Weekday(); wd == time.Saturday || wd == time.Sunday {
						v *= 0.5
					}
					if i >= report && rng.Float64() < 0.03 {
						injected[i] = true
						if rng.IntN(2) == 0 {
							v *= c.spikeMin + (c.spikeMax-c.spikeMin)*rng.Float64()
						} else {
							v *= c.dropMin + (c.dropMax-c.dropMin)*rng.Float64()
						}
					}
					// cents, as a bill would have them
					vals[i] = decimal.NewFromFloat(v).Round(2)
				}
				found := map[int]bool{}
				for _, a := range costs.Detect(days, vals, days[report], costs.DefaultDetect) {
					i := int(a.Date.Sub(start).Hours() / 24)
					found[i] = true
					if !a.Impact.Equal(a.Actual.Sub(a.Expected)) {
						t.Fatalf("impact %s != actual %s - expected %s", a.Impact, a.Actual, a.Expected)
					}
				}
				for i := range found {
					if injected[i] {
						tp++
					} else {
						fp++
					}
				}
				for i := range injected {
					if !found[i] {
						fn++
					}
				}
			}
			precision := float64(tp) / float64(tp+fp)
			recall := float64(tp) / float64(tp+fn)
			t.Logf("injected %d, found %d: precision %.3f recall %.3f", tp+fn, tp+fp, precision, recall)
			if precision < c.minPrecision || recall < c.minRecall {
				t.Errorf("precision %.3f (want ≥ %.2f), recall %.3f (want ≥ %.2f)", precision, c.minPrecision, recall, c.minRecall)
			}
		})
	}
}

func TestDetectFloor(t *testing.T) {
	// A flat series of 10 cents that jumps to 50 cents: unusual but under
	// the 1.00 minimum impact, so not an anomaly; a jump to 5.00 is.
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var days []time.Time
	var vals []decimal.Decimal
	for i := 0; i < 70; i++ {
		days = append(days, start.AddDate(0, 0, i))
		vals = append(vals, decimal.RequireFromString("0.10"))
	}
	vals[65] = decimal.RequireFromString("0.50")
	vals[68] = decimal.RequireFromString("5.00")
	got := costs.Detect(days, vals, days[60], costs.DefaultDetect)
	if len(got) != 1 || !got[0].Date.Equal(days[68]) || got[0].Expected.String() != "0.1" || got[0].Impact.String() != "4.9" {
		t.Fatalf("got %+v, want one anomaly on day 68 expected 0.1 impact 4.9", got)
	}
}
