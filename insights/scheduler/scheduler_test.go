package scheduler

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestRegisterRejectsBadSpec(t *testing.T) {
	s := New(nil, time.UTC, quiet, Options{})
	err := s.Register("insights", "every monday", func(context.Context) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `job "insights"`) || !strings.Contains(err.Error(), "every monday") {
		t.Fatalf("err = %v", err)
	}
	if err := s.Register("ok", "0 9 * * 1", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Register("ok", "0 9 * * 1", func(context.Context) error { return nil }); err == nil {
		t.Fatal("duplicate accepted")
	}
}

// TestOneRunPerTickAcrossReplicas starts two schedulers (two replicas) on
// one database and fires the same tick on both at once, many times.
func TestOneRunPerTickAcrossReplicas(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		ctx := context.Background()
		var calls atomic.Int64
		var reps []*Scheduler
		for i := range 2 {
			d, err := db.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = d.Close() })
			s := New(d, time.UTC, quiet, Options{Instance: []string{"a", "b"}[i]})
			if err := s.Register("digest", "0 9 * * 1", func(context.Context) error { calls.Add(1); time.Sleep(20 * time.Millisecond); return nil }); err != nil {
				t.Fatal(err)
			}
			reps = append(reps, s)
		}
		base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		const ticks = 5
		for k := range ticks {
			tick := base.AddDate(0, 0, 7*k)
			var wg sync.WaitGroup
			for _, s := range reps {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := s.Tick(ctx, "digest", tick); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
		}
		if calls.Load() != ticks {
			t.Fatalf("%d runs for %d ticks", calls.Load(), ticks)
		}
		runs, err := Runs(ctx, reps[0].db, Filter{Job: "digest"})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != ticks {
			t.Fatalf("%d recorded runs", len(runs))
		}
		for _, r := range runs {
			if r.Status != StatusSucceeded || r.FinishedAt == nil {
				t.Fatalf("run %+v", r)
			}
		}
		// A tick already run is not run again later either.
		if ran, _ := reps[1].Tick(ctx, "digest", base); ran || calls.Load() != ticks {
			t.Fatal("an old tick ran again")
		}
	})
}

// TestNoOverlap: while a slow run holds the job, a later tick (on this or
// another replica) is skipped rather than started alongside.
func TestNoOverlap(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		ctx := context.Background()
		d1, _ := db.Open(ctx, url)
		d2, _ := db.Open(ctx, url)
		t.Cleanup(func() { _ = d1.Close(); _ = d2.Close() })
		started := make(chan struct{})
		release := make(chan struct{})
		var calls atomic.Int64
		slow := func(context.Context) error {
			if calls.Add(1) == 1 {
				close(started)
				<-release
			}
			return nil
		}
		a := New(d1, time.UTC, quiet, Options{Instance: "a"})
		b := New(d2, time.UTC, quiet, Options{Instance: "b"})
		for _, s := range []*Scheduler{a, b} {
			if err := s.Register("sync", "* * * * *", slow); err != nil {
				t.Fatal(err)
			}
		}
		t0 := time.Date(2026, 11, 23, 4, 30, 0, 0, time.UTC)
		done := make(chan bool)
		go func() { ran, _ := a.Tick(ctx, "sync", t0); done <- ran }()
		<-started
		if ran, err := a.Tick(ctx, "sync", t0.Add(time.Minute)); ran || err != nil {
			t.Fatalf("same replica overlapped: %v %v", ran, err)
		}
		if kind == db.Postgres {
			if ran, err := b.Tick(ctx, "sync", t0.Add(time.Minute)); ran || err != nil {
				t.Fatalf("other replica overlapped: %v %v", ran, err)
			}
		}
		close(release)
		if !<-done {
			t.Fatal("first tick did not run")
		}
		if ran, err := b.Tick(ctx, "sync", t0.Add(2*time.Minute)); !ran || err != nil {
			t.Fatalf("after the slow run ended the next tick must run: %v %v", ran, err)
		}
		if calls.Load() != 2 {
			t.Fatalf("calls = %d", calls.Load())
		}
	})
}

// TestCronTicksOnceAcrossReplicas runs the real cron, every second, on two
// replicas for a few seconds: each tick runs exactly once.
func TestCronTicksOnceAcrossReplicas(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		ctx := context.Background()
		var mu sync.Mutex
		seen := map[string]int{}
		var reps []*Scheduler
		for i := range 2 {
			d, err := db.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = d.Close() })
			s := New(d, time.UTC, quiet, Options{Seconds: true, Instance: []string{"a", "b"}[i]})
			_ = s.Register("tick", "* * * * * *", func(context.Context) error {
				mu.Lock()
				seen[time.Now().Truncate(time.Second).Format(time.TimeOnly)]++
				mu.Unlock()
				return nil
			})
			reps = append(reps, s)
		}
		for _, s := range reps {
			s.Start()
		}
		time.Sleep(3500 * time.Millisecond)
		for _, s := range reps {
			s.Stop()
		}
		runs, err := Runs(ctx, reps[0].db, Filter{Job: "tick"})
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range seen {
			total += n
		}
		if len(runs) < 2 || total != len(runs) {
			t.Fatalf("%d recorded runs, %d calls (%v)", len(runs), total, seen)
		}
		ticks := map[time.Time]bool{}
		for _, r := range runs {
			if ticks[r.Tick] {
				t.Fatalf("tick %v ran twice", r.Tick)
			}
			ticks[r.Tick] = true
			if r.Tick.Nanosecond() != 0 {
				t.Fatalf("tick %v is not the scheduled instant", r.Tick)
			}
		}
	})
}

func TestMetrics(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	reg := prometheus.NewRegistry()
	s := New(d, time.UTC, quiet, Options{})
	_ = s.Register("j", "* * * * *", func(context.Context) error { return nil })
	if err := s.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	tick := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	_, _ = s.Tick(context.Background(), "j", tick)
	_, _ = s.Tick(context.Background(), "j", tick)
	if got := testutil.ToFloat64(s.metrics.runs.WithLabelValues("j", "succeeded")); got != 1 {
		t.Fatalf("succeeded = %v", got)
	}
	if got := testutil.ToFloat64(s.metrics.runs.WithLabelValues("j", "skipped")); got != 1 {
		t.Fatalf("skipped = %v", got)
	}
}

// TestInterruptedRunIsClosed: a run left "running" by a replica that died
// is marked failed by the next run of the job.
func TestInterruptedRunIsClosed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		old := &JobRun{Job: "j", Tick: time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC), Instance: "dead/1", Status: StatusRunning, StartedAt: time.Now().Add(-time.Hour).UTC()}
		if _, err := d.NewInsert().Model(old).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		s := New(d, time.UTC, quiet, Options{})
		_ = s.Register("j", "0 9 * * 1", func(context.Context) error { return nil })
		if ran, err := s.Tick(ctx, "j", time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)); !ran || err != nil {
			t.Fatal(ran, err)
		}
		runs, _ := Runs(ctx, d, Filter{Job: "j"})
		if len(runs) != 2 || runs[1].Status != StatusFailed || !strings.Contains(runs[1].Error, "interrupted") || runs[0].Status != StatusSucceeded {
			t.Fatalf("runs = %+v", runs)
		}
	})
}
