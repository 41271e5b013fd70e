package collect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tallyhq/tally/db"
)

// A real PostgreSQL outage: the collector's database stops accepting
// connections and its sessions are killed. Events sent meanwhile are
// answered 202, kept in memory and stored once the database is back.
func TestDatabaseOutageKeepsEvents(t *testing.T) {
	base := os.Getenv("TALLY_TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("TALLY_REQUIRE_POSTGRES") == "1" {
			t.Fatal("TALLY_REQUIRE_POSTGRES=1 but TALLY_TEST_DATABASE_URL is not set")
		}
		t.Skip("needs PostgreSQL: set TALLY_TEST_DATABASE_URL")
	}
	ctx := context.Background()
	admin, err := db.Open(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "tally_outage_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	// Cleanups run after the test's defers, so the admin connection is
	// closed here, after the drop, not by a defer (which left the database
	// behind).
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
		_ = admin.Close()
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	d, err := db.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mustSite(t, d, "example.com", nil)
	e := newEnv(t, d, Options{FlushInterval: 50 * time.Millisecond})
	e.c.Start()
	send := func(n int) {
		for i := 0; i < n; i++ {
			if code, msg, _ := e.send(t, hit{ip: "198.51.100.77", body: `{"n":"pageview","u":"https://example.com/x","d":"example.com"}`}); code != 202 {
				t.Fatalf("%d %s", code, msg)
			}
		}
	}
	waitStored := func(want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			n, err := d.NewSelect().Table("events").Count(ctx)
			if err == nil && n == int64(want) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("events never reached %d", want)
	}
	send(10)
	waitStored(10)

	// outage
	if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?", name); err != nil {
		t.Fatal(err)
	}
	send(20) // site and salt are cached: accepted while the database is down
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(e.c.metrics.flushErrors) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := testutil.ToFloat64(e.c.metrics.flushErrors); n < 2 {
		t.Fatalf("flush errors = %v: the outage was not noticed", n)
	}
	if q := e.c.queue.len(); q != 20 {
		t.Fatalf("queue holds %d events during the outage, want 20", q)
	}

	// recovery
	if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true"); err != nil {
		t.Fatal(err)
	}
	waitStored(30)
	if q := e.c.queue.len(); q != 0 {
		t.Fatalf("queue still holds %d", q)
	}
}
