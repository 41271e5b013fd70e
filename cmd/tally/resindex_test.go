package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

// The server's indexer builds the resource index of imported rows on its
// own, and stops when asked.
func TestResourceIndexerBuildsTheIndex(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f, err := os.Open(filepath.Join("..", "..", "costs", "testdata", "focus-1.0-sample-aws.csv"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := costs.ImportFOCUS(ctx, d, f, costs.ImportOptions{Name: "sample.csv"}); err != nil {
			t.Fatal(err)
		}
		stop := startResourceIndexer(d, 20*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		defer stop()
		if !d.IsPostgres() {
			return // SQLite has no index: the indexer only has to start and stop
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			var stale int
			if err := d.NewRaw(`SELECT count(*) FROM cost_resource_versions AS v
				LEFT JOIN cost_resource_index AS i USING (month, billing_currency)
				WHERE i.version IS DISTINCT FROM v.version`).Scan(ctx, &stale); err != nil {
				t.Fatal(err)
			}
			var built int
			if err := d.NewRaw("SELECT count(*) FROM cost_resource_index").Scan(ctx, &built); err != nil {
				t.Fatal(err)
			}
			if stale == 0 && built > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 20 s: %d months built, %d stale", built, stale)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
