package analytics

import (
	"testing"
	"time"

	"github.com/tallyhq/tally/db"
)

func TestResolveRangePresetsAndCompare(t *testing.T) {
	site := &db.Site{ID: 1, Timezone: "Pacific/Auckland"}
	// 2026-03-01 05:00 UTC is already 18:00 on 1 March in Auckland (UTC+13)
	now := time.Date(2026, 3, 1, 5, 0, 0, 0, time.UTC)
	d := func(s string) string { return s }
	cases := []struct {
		preset   Preset
		from, to string
	}{
		{Today, "2026-03-01", "2026-03-01"},
		{Yesterday, "2026-02-28", "2026-02-28"},
		{Last7Days, "2026-02-23", "2026-03-01"},
		{Last30Days, "2026-01-31", "2026-03-01"},
		{ThisMonth, "2026-03-01", "2026-03-01"},
		{LastMonth, "2026-02-01", "2026-02-28"},
		{Last12Months, "2025-04-01", "2026-03-01"},
	}
	for _, c := range cases {
		r, err := ResolveRange(t.Context(), nil, site, c.preset, nil, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.FromDate().Format(time.DateOnly); got != d(c.from) {
			t.Errorf("%s: from %s, want %s", c.preset, got, c.from)
		}
		if got := r.ToDate().Format(time.DateOnly); got != d(c.to) {
			t.Errorf("%s: to %s, want %s", c.preset, got, c.to)
		}
		// the range starts at local midnight
		want := time.Date(r.FromDate().Year(), r.FromDate().Month(), r.FromDate().Day(), 0, 0, 0, 0, r.Loc).Unix()
		if r.From() != want {
			t.Errorf("%s: starts at %d, want local midnight %d", c.preset, r.From(), want)
		}
	}
	from, to := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	r, err := ResolveRange(t.Context(), nil, site, "", &from, &to, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cmp      Compare
		from, to string
	}{
		{PreviousPeriod, "2024-01-03", "2024-01-31"},
		{YearOverYear, "2023-02-01", "2023-02-28"},
	} {
		p, err := CompareRange(r, c.cmp)
		if err != nil {
			t.Fatal(err)
		}
		if p.FromDate().Format(time.DateOnly) != c.from || p.ToDate().Format(time.DateOnly) != c.to {
			t.Errorf("%s: %s..%s, want %s..%s", c.cmp, p.FromDate().Format(time.DateOnly), p.ToDate().Format(time.DateOnly), c.from, c.to)
		}
	}
	if _, err := ResolveRange(t.Context(), nil, site, "", &to, &from, now); err == nil {
		t.Error("to before from was accepted")
	}
	if _, err := ResolveRange(t.Context(), nil, site, "NEXT_YEAR", nil, nil, now); err == nil {
		t.Error("an unknown preset was accepted")
	}
	if c := Change(150, 100); c == nil || *c != 50 {
		t.Errorf("change 100→150 = %v, want 50", c)
	}
	if Change(5, 0) != nil {
		t.Error("change from zero is not null")
	}
}
