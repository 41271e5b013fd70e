package collect

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/collect/visitor"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

// Two replicas (separate collectors, separate connection pools) receive
// the same person's events alternately and flush concurrently: the store
// must hold one visitor and one visit.
func TestTwoReplicasOneVisit(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		ctx := context.Background()
		open := func() *db.DB {
			d, err := db.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = d.Close() })
			return d
		}
		d1, d2 := open(), open()
		mustSite(t, d1, "example.com", nil)
		clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
		a := newEnv(t, d1, Options{Now: clk.Now})
		b := newEnv(t, d2, Options{Now: clk.Now})
		const people = 20
		const rounds = 5
		const perPerson = 2 * rounds
		for round := 0; round < rounds; round++ {
			// each person has one event waiting at each replica
			for p := 0; p < people; p++ {
				for i, e := range []*env{a, b} {
					body := fmt.Sprintf(`{"n":"pageview","u":"https://example.com/p%d","d":"example.com"}`, 2*round+i)
					if code, msg, _ := e.send(t, hit{ip: fmt.Sprintf("198.51.100.%d", p+1), body: body}); code != 202 {
						t.Fatalf("%d %s", code, msg)
					}
					clk.Add(time.Second)
				}
			}
			// both replicas flush at the same moment
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, e := range []*env{a, b} {
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = e.c.Flush(ctx) }()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
		}
		evs := events(t, d1)
		if len(evs) != people*perPerson {
			t.Fatalf("%d events, want %d", len(evs), people*perPerson)
		}
		visitors := map[int64]bool{}
		for _, e := range evs {
			visitors[e.VisitorID] = true
		}
		ss := sessionsOf(t, d1)
		if len(visitors) != people || len(ss) != people {
			t.Fatalf("%d visitors and %d visits, want %d of each", len(visitors), len(ss), people)
		}
		for _, s := range ss {
			if s.Pageviews != perPerson || s.Events != perPerson || s.IsBounce || s.EntryPage != "/p0" || s.ExitPage != fmt.Sprintf("/p%d", perPerson-1) {
				t.Errorf("visit %+v", s)
			}
		}
	})
}

// A visit that crosses midnight UTC stays one visit although the salt, and
// with it the visitor hash, changed; salts older than yesterday are gone.
func TestMidnightAndSaltRotation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		mustSite(t, d, "example.com", nil)
		clk := &clock{t: time.Date(2026, 3, 1, 23, 50, 0, 0, time.UTC)}
		e := newEnv(t, d, Options{Now: clk.Now})
		pv := func(path string) {
			if code, msg, _ := e.send(t, hit{ip: "198.51.100.9", body: `{"n":"pageview","u":"https://example.com` + path + `","d":"example.com"}`}); code != 202 {
				t.Fatalf("%d %s", code, msg)
			}
			e.flush(t)
		}
		pv("/before")
		clk.Add(20 * time.Minute) // 00:10 next day
		pv("/after")
		ss := sessionsOf(t, d)
		if len(ss) != 1 || ss[0].Pageviews != 2 || ss[0].ExitPage != "/after" {
			t.Fatalf("visit across midnight: %+v", ss)
		}
		clk.Add(2 * time.Hour) // same day, visit expired: a new visit with today's hash
		pv("/later")
		evs := events(t, d)
		if evs[2].VisitorID == evs[0].VisitorID {
			t.Fatalf("the new day's visit reused yesterday's visitor id")
		}
		for range 2 { // 03-03, then 03-04: each rotation makes the day's salt
			clk.Add(24 * time.Hour)
			if err := e.c.salts.Rotate(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		var days []string
		if err := d.NewSelect().Table("salts").Column("day").Order("day").Scan(context.Background(), &days); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(days) != "[2026-03-03 2026-03-04]" {
			t.Fatalf("salts kept %v, want yesterday and today only", days)
		}
	})
}

// The visitor id is the keyed hash described in the docs: recomputed here
// from the stored salt.
func TestVisitorIDIsKeyedHash(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		site := mustSite(t, d, "example.com", nil)
		clk := &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
		e := newEnv(t, d, Options{Now: clk.Now})
		e.send(t, hit{ip: "198.51.100.10", ua: safariIPhone, body: `{"n":"pageview","u":"https://example.com/","d":"example.com"}`})
		e.send(t, hit{ip: "198.51.100.11", ua: safariIPhone, body: `{"n":"pageview","u":"https://example.com/","d":"example.com"}`})
		e.flush(t)
		var rows []struct {
			Salt []byte `bun:"salt"`
		}
		if err := d.NewRaw("SELECT salt FROM salts WHERE day = ?", "2026-03-01").Scan(context.Background(), &rows); err != nil || len(rows) != 1 {
			t.Fatalf("salt: %v %v", rows, err)
		}
		s := &visitor.Salt{Day: "2026-03-01"}
		copy(s.Key[:], rows[0].Salt)
		evs := events(t, d)
		want := map[int64]bool{
			visitor.Hash(s, site.ID, parseAddr("198.51.100.10"), safariIPhone): true,
			visitor.Hash(s, site.ID, parseAddr("198.51.100.11"), safariIPhone): true,
		}
		if len(evs) != 2 || !want[evs[0].VisitorID] || !want[evs[1].VisitorID] || evs[0].VisitorID == evs[1].VisitorID {
			t.Fatalf("visitor ids %d %d not the hashes %v", evs[0].VisitorID, evs[1].VisitorID, want)
		}
	})
}

type recordingHook struct {
	failures atomic.Int32
	mu       sync.Mutex
	events   int
	changes  []db.SessionChange
}

func (h *recordingHook) AfterBatch(ctx context.Context, tx bun.Tx, evs []db.Event, ch []db.SessionChange) error {
	if h.failures.Add(-1) >= 0 {
		return errors.New("rollup table locked (simulated outage)")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events += len(evs)
	h.changes = append(h.changes, ch...)
	return nil
}

// While flushes fail, events stay queued and are retried with backoff; the
// hook sees each visit's state before and after.
func TestRetryKeepsEventsAndHookSeesChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		mustSite(t, d, "example.com", nil)
		hook := &recordingHook{}
		hook.failures.Store(2)
		clk := &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
		e := newEnv(t, d, Options{Hook: hook, FlushInterval: 20 * time.Millisecond, Now: clk.Now})
		e.c.Start()
		e.send(t, hit{ip: "198.51.100.20", body: `{"n":"pageview","u":"https://example.com/one","d":"example.com"}`})
		deadline := time.Now().Add(5 * time.Second)
		for len(events(t, d)) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := len(events(t, d)); n != 1 {
			t.Fatalf("after two failed flushes: %d events stored, want 1", n)
		}
		if got := e.c.metrics.flushErrors; got == nil {
			t.Fatal("no metric")
		}
		clk.Add(time.Minute)
		e.send(t, hit{ip: "198.51.100.20", body: `{"n":"pageview","u":"https://example.com/two","d":"example.com"}`})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.c.Close(ctx); err != nil { // shutdown flushes what is queued
			t.Fatal(err)
		}
		hook.mu.Lock()
		defer hook.mu.Unlock()
		if hook.events != 2 || len(hook.changes) != 2 {
			t.Fatalf("hook saw %d events, %d changes", hook.events, len(hook.changes))
		}
		first, second := hook.changes[0], hook.changes[1]
		if first.Before != nil || first.After.Pageviews != 1 || !first.After.IsBounce {
			t.Errorf("first change %+v", first)
		}
		if second.Before == nil || second.Before.Pageviews != 1 || second.After.Pageviews != 2 || second.After.IsBounce || second.After.SessionID != first.After.SessionID {
			t.Errorf("second change before %+v after %+v", second.Before, second.After)
		}
		if n := len(events(t, d)); n != 2 {
			t.Fatalf("%d events after shutdown, want 2", n)
		}
	})
}
