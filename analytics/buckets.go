package analytics

import (
	"fmt"
	"time"

	"github.com/tallyhq/tally/apperr"
)

// Interval is the width of a time-series bucket.
type Interval string

const (
	Hour  Interval = "HOUR"
	Day   Interval = "DAY"
	Week  Interval = "WEEK"
	Month Interval = "MONTH"
)

// MaxBuckets bounds a time series so that one query cannot ask for a
// million hours.
const MaxBuckets = 5000

// bucket is one time-series slot, clipped to the range. Day-aligned buckets
// also carry their local days so rollups can fill them.
type bucket struct {
	Start          time.Time // local time of the first instant
	from, to       int64
	fromDay, toDay int // inclusive; -1 for hour buckets
}

func makeBuckets(r Range, iv Interval) ([]bucket, error) {
	var out []bucket
	switch iv {
	case Hour:
		end := r.To()
		for t := time.Unix(r.From(), 0).In(r.Loc); t.Unix() < end; t = t.Add(time.Hour) {
			if len(out) >= MaxBuckets {
				return nil, apperr.Invalid("interval", "HOUR over %d days gives more than %d buckets; use a larger interval", r.ToDay-r.FromDay+1, MaxBuckets)
			}
			out = append(out, bucket{Start: t, from: t.Unix(), to: min(t.Unix()+3600, end), fromDay: -1, toDay: -1})
		}
		return out, nil
	case Day, Week, Month:
		for d := r.FromDay; d <= r.ToDay; {
			next := d + 1
			switch iv {
			case Week:
				wd := int(dayDate(d).Weekday()+6) % 7 // days since Monday
				next = d + 7 - wd
			case Month:
				t := dayDate(d)
				next = dayOfDate(t.Year(), t.Month()+1, 1)
			}
			last := min(next-1, r.ToDay)
			out = append(out, bucket{Start: dayTime(d, r.Loc), from: dayStart(d, r.Loc), to: dayStart(last+1, r.Loc), fromDay: d, toDay: last})
			d = next
		}
		if len(out) > MaxBuckets {
			return nil, apperr.Invalid("interval", "more than %d buckets; use a larger interval", MaxBuckets)
		}
		return out, nil
	}
	return nil, apperr.Invalid("interval", "unknown interval %q", iv)
}

// bucketOfDay maps each day of the range to its bucket index.
func bucketOfDay(bs []bucket) map[int]int {
	m := map[int]int{}
	for i, b := range bs {
		for d := b.fromDay; d <= b.toDay; d++ {
			m[d] = i
		}
	}
	return m
}

func (b bucket) String() string { return fmt.Sprintf("[%d,%d)", b.from, b.to) }
