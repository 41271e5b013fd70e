// Package dbtest gives each test a fresh, migrated store: a temporary SQLite
// file always, and a fresh PostgreSQL schema when TALLY_TEST_DATABASE_URL is
// set. With TALLY_REQUIRE_POSTGRES=1 a missing PostgreSQL fails the test
// instead of skipping it, so CI cannot pass by silently testing less.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/tallyhq/tally/db"
)

// Kinds lists the stores every test runs on.
var Kinds = []db.Kind{db.SQLite, db.Postgres}

// Each runs fn once per store, as subtests named "sqlite" and "postgres",
// each with its own fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, k := range Kinds {
		t.Run(string(k), func(t *testing.T) {
			fn(t, Open(t, k))
		})
	}
}

// EachURL is like Each but hands over a database URL instead of an open
// handle, for tests that start servers or processes of their own. The
// database is migrated.
func EachURL(t *testing.T, fn func(t *testing.T, kind db.Kind, url string)) {
	t.Helper()
	for _, k := range Kinds {
		t.Run(string(k), func(t *testing.T) {
			fn(t, k, URL(t, k))
		})
	}
}

// Open returns a fresh migrated database of the given kind, closed when the
// test ends.
func Open(t testing.TB, k db.Kind) *db.DB {
	t.Helper()
	u := URL(t, k)
	d, err := db.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open %s: %v", k, err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// URL creates a fresh migrated database of the given kind and returns its URL.
// For PostgreSQL it is a new schema, dropped when the test ends.
func URL(t testing.TB, k db.Kind) string {
	t.Helper()
	ctx := context.Background()
	var u string
	switch k {
	case db.SQLite:
		u = "sqlite:" + filepath.Join(t.TempDir(), "tally.db")
	case db.Postgres:
		base := os.Getenv("TALLY_TEST_DATABASE_URL")
		if base == "" {
			if os.Getenv("TALLY_REQUIRE_POSTGRES") == "1" {
				t.Fatal("TALLY_REQUIRE_POSTGRES=1 but TALLY_TEST_DATABASE_URL is not set")
			}
			t.Skip("PostgreSQL: set TALLY_TEST_DATABASE_URL to run this test on PostgreSQL too")
		}
		schema := "t_" + randomHex(8)
		admin, err := db.Open(ctx, base)
		if err != nil {
			t.Fatalf("open %s: %v", db.Redact(base), err)
		}
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() {
			_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			_ = admin.Close()
		})
		pu, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		q := pu.Query()
		q.Set("search_path", schema)
		pu.RawQuery = q.Encode()
		u = pu.String()
	default:
		t.Fatalf("unknown kind %q", k)
	}
	d, err := db.Open(ctx, u)
	if err != nil {
		t.Fatalf("open %s: %v", k, err)
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", k, err)
	}
	return u
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
