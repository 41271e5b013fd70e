package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyhq/tally/config"
	"github.com/tallyhq/tally/insights"
)

// TestInsightsCommand runs `tally insights run` as a user would: the dry
// run prints only the payload JSON and stores nothing; a real run stores one.
func TestInsightsCommand(t *testing.T) {
	ctx := context.Background()
	url := "sqlite:" + filepath.Join(t.TempDir(), "t.db")
	if code := run(ctx, []string{"demo", "--database-url", url}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("demo exit %d", code)
	}
	var out, errb bytes.Buffer
	code := run(ctx, []string{"insights", "run", "--dry-run", "--from", "2026-11-09", "--to", "2026-11-15", "--database-url", url}, &out, &errb)
	if code != 0 {
		t.Fatalf("dry run exit %d: %s", code, errb.String())
	}
	var s insights.Summary
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("stdout is not exactly the payload: %v", err)
	}
	if rest, _ := io.ReadAll(dec.Buffered()); strings.TrimSpace(string(rest)) != "" || s.Period.From != "2026-11-09" || s.Period.Days != 7 {
		t.Fatalf("period %+v, trailing %q", s.Period, rest)
	}
	cfg, _ := config.Load(map[string]*string{"TALLY_DATABASE_URL": &url}, func(string) string { return "" })
	d, err := openDB(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	count := func() int {
		runs, err := insights.Runs(ctx, d, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(runs)
	}
	if n := count(); n != 1 { // the demo's run only
		t.Fatalf("%d runs after a dry run", n)
	}
	out.Reset()
	if code := run(ctx, []string{"insights", "run", "--database-url", url}, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "succeeded") {
		t.Fatalf("run exit %d: %s", code, out.String())
	}
	if n := count(); n != 2 {
		t.Fatalf("%d runs after a run", n)
	}
	errb.Reset()
	for _, args := range [][]string{
		{"insights", "run", "--from", "2026-11-09"},
		{"insights", "run", "--from", "09.11.2026", "--to", "2026-11-15"},
		{"insights", "go"},
	} {
		errb.Reset()
		if code := run(ctx, append(args, "--database-url", url), io.Discard, &errb); code == 0 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
}
