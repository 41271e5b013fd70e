package resolvers

import (
	"testing"
	"time"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/gqltypes"
	"github.com/tallyhq/tally/graph/model"
)

func TestCostDays(t *testing.T) {
	now := time.Date(2026, 3, 15, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)) // 2026-03-16 04:30 UTC
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	p := func(v model.DatePreset) *model.DatePreset { return &v }
	dt := func(s string) *gqltypes.Date { d, _ := gqltypes.ParseDate(s); return &d }
	cases := []struct {
		in         model.CostDateRange
		from, to   string
		wantsError bool
	}{
		{model.CostDateRange{Preset: p(model.DatePresetToday)}, "2026-03-16", "2026-03-16", false},
		{model.CostDateRange{Preset: p(model.DatePresetYesterday)}, "2026-03-15", "2026-03-15", false},
		{model.CostDateRange{Preset: p(model.DatePresetLast7Days)}, "2026-03-10", "2026-03-16", false},
		{model.CostDateRange{Preset: p(model.DatePresetLast30Days)}, "2026-02-15", "2026-03-16", false},
		{model.CostDateRange{Preset: p(model.DatePresetThisMonth)}, "2026-03-01", "2026-03-16", false},
		{model.CostDateRange{Preset: p(model.DatePresetLastMonth)}, "2026-02-01", "2026-02-28", false},
		{model.CostDateRange{Preset: p(model.DatePresetLast12Months)}, "2025-04-01", "2026-03-16", false},
		{model.CostDateRange{From: dt("2026-01-02"), To: dt("2026-01-05")}, "2026-01-02", "2026-01-05", false},
		{model.CostDateRange{Preset: p(model.DatePresetAll)}, "", "", true},
		{model.CostDateRange{From: dt("2026-01-02")}, "", "", true},
		{model.CostDateRange{}, "", "", true},
		{model.CostDateRange{Preset: p(model.DatePresetToday), From: dt("2026-01-02"), To: dt("2026-01-03")}, "", "", true},
	}
	for _, c := range cases {
		from, to, err := costDays(c.in, now)
		if c.wantsError {
			if !apperr.IsInvalid(err) {
				t.Errorf("%+v: want an invalid-input error, got %v", c.in, err)
			}
			continue
		}
		if err != nil || !from.Equal(day(c.from)) || !to.Equal(day(c.to)) {
			t.Errorf("%+v: got %s..%s (%v), want %s..%s", c.in, from.Format(time.DateOnly), to.Format(time.DateOnly), err, c.from, c.to)
		}
	}
}
