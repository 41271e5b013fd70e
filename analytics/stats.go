package analytics

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
)

// compute fills one acc per group key with the wanted metrics, from rollups
// where they hold the answer and from raw tables otherwise.
func compute(ctx context.Context, d *db.DB, q *Query, g grouping, w Want) (accs, error) {
	out := accs{}
	goal := q.Goal != nil && w.ConversionRate
	if goal {
		w.Visitors = true
	}
	roll := canUseRollups(q, g)
	if w.eventGroup() {
		var err error
		if roll && (g.dim == "" || inList(g.dim, eventRollupDims)) {
			err = rollupEvents(ctx, d, q, g, w, out)
		} else {
			err = rawEvents(ctx, d, q, g, w, out, true, false)
		}
		if err != nil {
			return nil, err
		}
	}
	if w.sessionGroup() {
		var err error
		if roll && (g.dim == "" || inList(g.dim, sessionRollupDims)) {
			err = rollupSessions(ctx, d, q, g, out)
		} else {
			err = rawSessions(ctx, d, q, g, out)
		}
		if err != nil {
			return nil, err
		}
	}
	if w.Revenue {
		if err := rawRevenue(ctx, d, q, g, out); err != nil {
			return nil, err
		}
	}
	if goal {
		if err := rawEvents(ctx, d, q, g, w, out, false, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Aggregate answers the totals of a query.
func Aggregate(ctx context.Context, d *db.DB, q *Query, w Want) (Metrics, error) {
	a, err := compute(ctx, d, q, grouping{}, w)
	if err != nil {
		return Metrics{}, err
	}
	return a.get("").metrics(w, q.Goal != nil), nil
}

// Point is one time-series bucket.
type Point struct {
	Start time.Time
	Metrics
}

// Timeseries answers one point per bucket of the range, zero where nothing
// happened.
func Timeseries(ctx context.Context, d *db.DB, q *Query, iv Interval, w Want) ([]Point, error) {
	bs, err := makeBuckets(q.Range, iv)
	if err != nil {
		return nil, err
	}
	a, err := compute(ctx, d, q, grouping{buckets: bs}, w)
	if err != nil {
		return nil, err
	}
	out := make([]Point, len(bs))
	for i, b := range bs {
		out[i] = Point{Start: b.Start, Metrics: a.get(bucketKey(i)).metrics(w, q.Goal != nil)}
	}
	return out, nil
}

// Row is one breakdown row.
type Row struct {
	Value string
	Metrics
}

// Order sorts breakdown rows by a metric.
type Order struct {
	Metric string // VISITORS, VISITS, PAGEVIEWS, EVENTS, BOUNCE_RATE, VISIT_DURATION, VIEWS_PER_VISIT, CONVERSION_RATE
	Asc    bool
}

func (o Order) value(m *Metrics) float64 {
	switch o.Metric {
	case "VISITS":
		return float64(m.Visits)
	case "PAGEVIEWS":
		return float64(m.Pageviews)
	case "EVENTS":
		return float64(m.Events)
	case "BOUNCE_RATE":
		return m.BounceRate
	case "VISIT_DURATION":
		return m.VisitDuration
	case "VIEWS_PER_VISIT":
		return m.ViewsPerVisit
	case "CONVERSION_RATE":
		if m.ConversionRate != nil {
			return *m.ConversionRate
		}
		return 0
	}
	return float64(m.Visitors)
}

func (o Order) want(w Want) (Want, error) {
	switch o.Metric {
	case "", "VISITORS":
		w.Visitors = true
	case "VISITS":
		w.Visits = true
	case "PAGEVIEWS":
		w.Pageviews = true
	case "EVENTS":
		w.Events = true
	case "BOUNCE_RATE":
		w.BounceRate = true
	case "VISIT_DURATION":
		w.VisitDuration = true
	case "VIEWS_PER_VISIT":
		w.ViewsPerVisit = true
	case "CONVERSION_RATE":
		w.ConversionRate = true
	default:
		return w, apperr.Invalid("orderBy.metric", "unknown metric %q", o.Metric)
	}
	return w, nil
}

// Page is one page of breakdown rows.
type Page struct {
	Rows []Row
	// Total counts every row of the breakdown, HasNext says whether rows
	// follow this page and EndCursor continues after it.
	Total     int
	HasNext   bool
	EndCursor string
}

// EncodeCursor and DecodeCursor turn a row offset into an opaque cursor.
func EncodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

func DecodeCursor(c string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 3 || string(b[:2]) != "o:" {
		return 0, apperr.Invalid("after", "%q is not a cursor from this API", c)
	}
	n, err := strconv.Atoi(string(b[2:]))
	if err != nil || n < 0 {
		return 0, apperr.Invalid("after", "%q is not a cursor from this API", c)
	}
	return n, nil
}

// Breakdown answers the rows of a dimension, ordered by a metric (ties by
// value), limit rows after the offset.
func Breakdown(ctx context.Context, d *db.DB, q *Query, dim Dimension, propKey string, w Want, o Order, limit, offset int) (*Page, error) {
	if !dim.Valid() {
		return nil, apperr.Invalid("dimension", "unknown dimension %q", dim)
	}
	if dim == DimProp && propKey == "" {
		return nil, apperr.Invalid("propKey", "is required with dimension PROP")
	}
	if limit <= 0 || limit > 1000 {
		return nil, apperr.Invalid("limit", "must be between 1 and 1000, not %d", limit)
	}
	w2, err := o.want(w)
	if err != nil {
		return nil, err
	}
	a, err := compute(ctx, d, q, grouping{dim: dim, propKey: propKey}, w2)
	if err != nil {
		return nil, err
	}
	rows := make([]Row, 0, len(a))
	for k, x := range a {
		if x.pageviews == 0 && x.events == 0 && x.visitors == 0 && x.visits == 0 && (x.sk == nil || x.sk.Count() == 0) && len(x.revenue) == 0 {
			continue
		}
		rows = append(rows, Row{Value: k, Metrics: x.metrics(w2, q.Goal != nil)})
	}
	sort.Slice(rows, func(i, j int) bool {
		vi, vj := o.value(&rows[i].Metrics), o.value(&rows[j].Metrics)
		if vi != vj {
			if o.Asc {
				return vi < vj
			}
			return vi > vj
		}
		return rows[i].Value < rows[j].Value
	})
	p := &Page{Total: len(rows)}
	if offset > len(rows) {
		offset = len(rows)
	}
	end := min(offset+limit, len(rows))
	p.Rows = rows[offset:end]
	p.HasNext = end < len(rows)
	p.EndCursor = EncodeCursor(end)
	return p, nil
}

// String describes a query for logs (no visitor data).
func (q *Query) String() string {
	return fmt.Sprintf("site %d days %d..%d filters %d", q.Site.ID, q.Range.FromDay, q.Range.ToDay, len(q.Filters))
}

// Comparison pairs a query with the same query over the comparison range.
type Comparison struct {
	Current, Previous *Query
}
