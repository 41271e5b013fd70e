package analytics

import "time"

// Days are counted in a site's time zone as the number of days between
// 1970-01-01 and the local calendar date, which makes them plain integers in
// SQL and independent of daylight-saving shifts.

func civilDay(t time.Time) int {
	y, m, d := t.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// localDay returns the local day of a Unix timestamp.
func localDay(ts int64, loc *time.Location) int { return civilDay(time.Unix(ts, 0).In(loc)) }

// dayStart returns the first second of a local day as a Unix timestamp.
func dayStart(day int, loc *time.Location) int64 { return dayTime(day, loc).Unix() }

// dayTime returns local midnight of day (or the first instant after it when
// a daylight-saving change skips midnight).
func dayTime(day int, loc *time.Location) time.Time {
	u := time.Unix(int64(day)*86400, 0).UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, loc)
}

// dayDate returns the calendar date of a day, at UTC midnight.
func dayDate(day int) time.Time { return time.Unix(int64(day)*86400, 0).UTC() }

// dayOfDate returns the day number of a calendar date.
func dayOfDate(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}
