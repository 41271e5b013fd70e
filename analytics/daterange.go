package analytics

import (
	"context"
	"database/sql"
	"time"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
)

// Preset is a named date range relative to today in the site's time zone.
type Preset string

const (
	Today        Preset = "TODAY"
	Yesterday    Preset = "YESTERDAY"
	Last7Days    Preset = "LAST_7_DAYS"
	Last30Days   Preset = "LAST_30_DAYS"
	ThisMonth    Preset = "THIS_MONTH"
	LastMonth    Preset = "LAST_MONTH"
	Last12Months Preset = "LAST_12_MONTHS"
	All          Preset = "ALL"
)

// MaxRangeDays bounds custom ranges (about 20 years).
const MaxRangeDays = 7400

// ResolveRange turns a preset or from/to dates into a Range. LAST_7_DAYS and
// LAST_30_DAYS end today; LAST_12_MONTHS starts on the first day of the month
// eleven months ago; ALL starts on the first day with data.
func ResolveRange(ctx context.Context, d *db.DB, site *db.Site, preset Preset, from, to *time.Time, now time.Time) (Range, error) {
	loc, err := time.LoadLocation(site.Timezone)
	if err != nil {
		loc = time.UTC
	}
	today := civilDay(now.In(loc))
	r := Range{Loc: loc}
	if from != nil || to != nil {
		if preset != "" {
			return r, apperr.Invalid("dateRange", "give a preset or from/to, not both")
		}
		if from == nil || to == nil {
			return r, apperr.Invalid("dateRange", "from and to are both required")
		}
		r.FromDay, r.ToDay = civilDay(*from), civilDay(*to)
		if r.ToDay < r.FromDay {
			return r, apperr.Invalid("dateRange.to", "%s is before from %s", to.Format(time.DateOnly), from.Format(time.DateOnly))
		}
		if r.ToDay-r.FromDay > MaxRangeDays {
			return r, apperr.Invalid("dateRange", "spans more than %d days", MaxRangeDays)
		}
		return r, nil
	}
	t := dayDate(today)
	switch preset {
	case "", Last30Days:
		r.FromDay, r.ToDay = today-29, today
	case Today:
		r.FromDay, r.ToDay = today, today
	case Yesterday:
		r.FromDay, r.ToDay = today-1, today-1
	case Last7Days:
		r.FromDay, r.ToDay = today-6, today
	case ThisMonth:
		r.FromDay, r.ToDay = dayOfDate(t.Year(), t.Month(), 1), today
	case LastMonth:
		r.FromDay, r.ToDay = dayOfDate(t.Year(), t.Month()-1, 1), dayOfDate(t.Year(), t.Month(), 1)-1
	case Last12Months:
		r.FromDay, r.ToDay = dayOfDate(t.Year(), t.Month()-11, 1), today
	case All:
		first, err := firstDay(ctx, d, site.ID, loc)
		if err != nil {
			return r, err
		}
		r.FromDay, r.ToDay = min(first, today), today
	default:
		return r, apperr.Invalid("dateRange.preset", "unknown preset %q", preset)
	}
	return r, nil
}

// firstDay is the earliest day in the rollups or raw events.
func firstDay(ctx context.Context, d *db.DB, siteID int64, loc *time.Location) (int, error) {
	var day sql.NullInt64
	if err := d.QueryRowContext(ctx, "SELECT MIN(day) FROM analytics_event_rollups WHERE site_id = ? AND dim = ''", siteID).Scan(&day); err != nil {
		return 0, err
	}
	var ts sql.NullInt64
	if err := d.QueryRowContext(ctx, "SELECT MIN(ts) FROM events WHERE site_id = ?", siteID).Scan(&ts); err != nil {
		return 0, err
	}
	first := 1 << 30
	if day.Valid {
		first = int(day.Int64)
	}
	if ts.Valid {
		first = min(first, localDay(ts.Int64, loc))
	}
	return first, nil
}

// Compare names the period a range is compared with.
type Compare string

const (
	PreviousPeriod Compare = "PREVIOUS_PERIOD"
	YearOverYear   Compare = "YEAR_OVER_YEAR"
)

// CompareRange returns the range to compare r with: the same number of days
// just before it, or the same dates one year earlier (29 February maps to
// 28 February).
func CompareRange(r Range, c Compare) (Range, error) {
	out := Range{Loc: r.Loc}
	switch c {
	case PreviousPeriod:
		n := r.ToDay - r.FromDay + 1
		out.FromDay, out.ToDay = r.FromDay-n, r.FromDay-1
	case YearOverYear:
		out.FromDay, out.ToDay = yearBefore(r.FromDay), yearBefore(r.ToDay)
	default:
		return out, apperr.Invalid("compare", "unknown comparison %q", c)
	}
	return out, nil
}

func yearBefore(day int) int {
	t := dayDate(day)
	d := t.Day()
	if t.Month() == time.February && d == 29 {
		d = 28
	}
	return dayOfDate(t.Year()-1, t.Month(), d)
}

// Change is the change from prev to cur in percent; nil when prev is zero.
func Change(cur, prev float64) *float64 {
	if prev == 0 {
		return nil
	}
	c := (cur - prev) / prev * 100
	return &c
}
