package sqltraffic_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tallyhq/tally/costs/sqltraffic"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
	"github.com/tallyhq/tally/sites"
)

// TestTrafficMatchesBruteForce writes random events over four days for two
// sites and compares the adapter with counts made here from the same slice.
func TestTrafficMatchesBruteForce(t *testing.T) {
	start := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	cases := []struct {
		name, goal string
		from, to   time.Time
	}{
		{"all days, any event converts", "", start, start.AddDate(0, 0, 4)},
		{"middle days, goal Signup", "Signup", start.AddDate(0, 0, 1), start.AddDate(0, 0, 3)},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s1, err := sites.Create(ctx, d, "a.example.com", "UTC")
		if err != nil {
			t.Fatal(err)
		}
		s2, err := sites.Create(ctx, d, "b.example.com", "UTC")
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		names := []string{"pageview", "pageview", "pageview", "Signup", "Download"}
		var evs []db.Event
		for i := 0; i < 2000; i++ {
			site := s1.ID
			if i%5 == 0 {
				site = s2.ID
			}
			v := rng.Int64N(150)
			evs = append(evs, db.Event{SiteID: site, TS: start.Unix() + rng.Int64N(5*86400), Name: names[rng.IntN(len(names))],
				VisitorID: v, SessionID: v, Props: map[string]string{}})
		}
		if _, err := d.NewInsert().Model(&evs).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tot, days, err := sqltraffic.Traffic{DB: d}.Traffic(ctx, s1.ID, c.from, c.to, c.goal)
				if err != nil {
					t.Fatal(err)
				}
				type counts struct {
					visitors, converted map[int64]bool
					pageviews           int64
				}
				newCounts := func() *counts { return &counts{visitors: map[int64]bool{}, converted: map[int64]bool{}} }
				all := newCounts()
				perDay := map[int64]*counts{}
				for _, e := range evs {
					if e.SiteID != s1.ID || e.TS < c.from.Unix() || e.TS >= c.to.Unix() {
						continue
					}
					day := e.TS - e.TS%86400
					if perDay[day] == nil {
						perDay[day] = newCounts()
					}
					for _, k := range []*counts{all, perDay[day]} {
						k.visitors[e.VisitorID] = true
						if e.Name == "pageview" {
							k.pageviews++
						}
						if (c.goal == "" && e.Name != "pageview") || (c.goal != "" && e.Name == c.goal) {
							k.converted[e.VisitorID] = true
						}
					}
				}
				if tot.Visitors != int64(len(all.visitors)) || tot.Pageviews != all.pageviews || tot.Conversions != int64(len(all.converted)) {
					t.Errorf("totals %+v, want %d visitors %d pageviews %d conversions", tot, len(all.visitors), all.pageviews, len(all.converted))
				}
				if len(days) != len(perDay) {
					t.Fatalf("%d days, want %d", len(days), len(perDay))
				}
				for _, dd := range days {
					w := perDay[dd.Date.Unix()]
					if w == nil || dd.Visitors != int64(len(w.visitors)) || dd.Pageviews != w.pageviews || dd.Conversions != int64(len(w.converted)) {
						t.Errorf("day %s: %+v", dd.Date.Format(time.DateOnly), dd.TrafficTotals)
					}
				}
			})
		}
	})
}
