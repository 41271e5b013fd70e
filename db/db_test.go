package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

func TestMigrateUpDownUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		site := &db.Site{Domain: "example.com", Timezone: "UTC", AllowedHostnames: []string{}, ExcludedIPs: []string{}, ExcludedPaths: []string{"/admin/*"}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if _, err := d.NewInsert().Model(site).Exec(ctx); err != nil {
			t.Fatalf("insert site: %v", err)
		}
		var got db.Site
		if err := d.NewSelect().Model(&got).Where("domain = ?", "example.com").Scan(ctx); err != nil {
			t.Fatalf("select: %v", err)
		}
		if got.ID == 0 || len(got.ExcludedPaths) != 1 || got.ExcludedPaths[0] != "/admin/*" {
			t.Fatalf("round trip lost data: %+v", got)
		}
		mg, err := d.Migrator()
		if err != nil {
			t.Fatal(err)
		}
		ms, err := mg.MigrationsWithStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms.Unapplied()) != 0 {
			t.Fatalf("unapplied after migrate: %v", ms.Unapplied())
		}
		// Roll back everything one group at a time, then apply again.
		for len(ms.Applied()) > 0 {
			if _, err := mg.Rollback(ctx); err != nil {
				t.Fatalf("rollback: %v", err)
			}
			if ms, err = mg.MigrationsWithStatus(ctx); err != nil {
				t.Fatal(err)
			}
		}
		applied, err := d.Migrate(ctx)
		if err != nil {
			t.Fatalf("re-migrate: %v", err)
		}
		if len(applied) == 0 {
			t.Fatal("nothing applied after full rollback")
		}
	})
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		url, want, mustNot string
	}{
		{"mysql://x", "unsupported scheme", ""},
		{"", "empty", ""},
		{"sqlite:", "needs a file path", ""},
		{"postgres://bob:s3cretpw@127.0.0.1:1/nodb?connect_timeout=2", "127.0.0.1:1", "s3cretpw"},
	}
	for _, c := range cases {
		_, err := db.Open(ctx, c.url)
		if err == nil {
			t.Fatalf("%q: expected error", c.url)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %q does not mention %q", c.url, err, c.want)
		}
		if c.mustNot != "" && strings.Contains(err.Error(), c.mustNot) {
			t.Errorf("%q: error leaks %q: %v", c.url, c.mustNot, err)
		}
	}
}
