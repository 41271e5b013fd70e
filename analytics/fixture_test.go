package analytics_test

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/tallyhq/tally/analytics"
	"github.com/tallyhq/tally/analytics/synth"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/sites"
)

// fixture is the raw traffic of a test site, kept in memory for the oracle.
type fixture struct {
	site     *db.Site
	loc      *time.Location
	events   []db.Event
	sessions map[int64]db.Session // final state by session id
	// shared makes toQuery give queries a shared-scan cache, so that
	// filtered questions are answered from one scan instead of SQL.
	shared bool
}

// berlin covers the end of daylight-saving time on 2026-10-25 (a 25-hour day).
var fixtureEnd = time.Date(2026, 10, 28, 18, 0, 0, 0, time.UTC)

// loadFixture generates visits, adds hand-made edge cases (a visit crossing
// local midnight, events on the DST day) and stores them the way the collect
// writer does: in batches, calling the hook inside each batch transaction.
func loadFixture(t *testing.T, d *db.DB, tz string, events int) *fixture {
	t.Helper()
	ctx := context.Background()
	site, err := sites.Create(ctx, d, "fixture.example", tz)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(tz)
	var all []db.Event
	err = synth.Generate(synth.Config{SiteID: site.ID, Hostname: "fixture.example", Events: events, Days: 12, End: fixtureEnd, Seed: 42, Loc: loc}, func(v *synth.Visit) error {
		all = append(all, v.Events...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// a visit that starts at 23:58 local time on 2026-10-24 and ends after midnight
	start := time.Date(2026, 10, 24, 23, 58, 0, 0, loc).Unix()
	mk := func(ts int64, name, path string) db.Event {
		return db.Event{SiteID: site.ID, TS: ts, Name: name, VisitorID: 777, SessionID: 9_000_001, Hostname: "blog.fixture.example",
			Pathname: path, Source: "Mastodon", Channel: "Organic Social", Referrer: "https://mastodon.social/",
			Country: "NZ", Browser: "Firefox", OS: "GNU/Linux", Device: "Desktop", Props: map[string]string{"theme": "dark"}, Interactive: true}
	}
	all = append(all, mk(start, "pageview", "/midnight"), mk(start+100, "pageview", "/blog/post-1"), mk(start+200, "Signup", "/blog/post-1"), mk(start+400, "pageview", "/after-midnight"))
	sort.SliceStable(all, func(i, j int) bool { return all[i].TS < all[j].TS })

	f := &fixture{site: site, loc: loc, events: all, sessions: map[int64]db.Session{}}
	seen := map[int64][]db.Event{}
	hook := analytics.Hook{}
	for len(all) > 0 {
		n := min(len(all), 37)
		batch := all[:n]
		all = all[n:]
		tx, err := d.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var order []int64
		before := map[int64]*db.Session{}
		for _, e := range batch {
			if _, ok := before[e.SessionID]; !ok && !slices.Contains(order, e.SessionID) {
				order = append(order, e.SessionID)
				if prev := seen[e.SessionID]; len(prev) > 0 {
					s := synth.Fold(prev)
					before[e.SessionID] = &s
				}
			}
			seen[e.SessionID] = append(seen[e.SessionID], e)
		}
		var changes []db.SessionChange
		for _, id := range order {
			after := synth.Fold(seen[id])
			if _, err := tx.NewDelete().Model((*db.Session)(nil)).Where("site_id = ? AND session_id = ?", site.ID, id).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.NewInsert().Model(&after).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			changes = append(changes, db.SessionChange{Before: before[id], After: after})
			f.sessions[id] = after
		}
		if err := hook.AfterBatch(ctx, tx, batch, changes); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return f
}
