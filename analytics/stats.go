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
	var sc *scan
	if !roll && usesScan(q, g) && (w.eventGroup() || w.sessionGroup()) {
		var err error
		if sc, err = q.sharedScan(ctx, d); err != nil {
			return nil, err
		}
		if sc != nil {
			if err := sc.needVisitDim(ctx, d, q, g.dim); err != nil {
				return nil, err
			}
		}
	}
	if w.eventGroup() {
		var err error
		if roll && (g.dim == "" || inList(g.dim, eventRollupDims)) {
			err = rollupEvents(ctx, d, q, g, w, out)
		} else if sc != nil {
			sc.eventMetrics(q, g, w, out)
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
		} else if sc != nil {
			sc.visitMetrics(q, g, out)
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
	keys := make([]string, 0, len(a))
	for k, x := range a {
		if x.pageviews == 0 && x.events == 0 && x.visitors == 0 && x.visits == 0 && (x.sk == nil || x.sk.Count() == 0) && len(x.revenue) == 0 {
			continue
		}
		keys = append(keys, k)
	}
	less := func(r []Row) func(i, j int) bool {
		return func(i, j int) bool {
			vi, vj := o.value(&r[i].Metrics), o.value(&r[j].Metrics)
			if vi != vj {
				if o.Asc {
					return vi < vj
				}
				return vi > vj
			}
			return r[i].Value < r[j].Value
		}
	}
	goal := q.Goal != nil
	need := offset + limit
	var rows []Row
	switch {
	case o.Metric != "" && o.Metric != "VISITORS" && o.Metric != "CONVERSION_RATE":
		// The order does not depend on visitors: sort without counting
		// them, then count only the rows of the page.
		rows = make([]Row, 0, len(keys))
		for _, k := range keys {
			rows = append(rows, Row{Value: k, Metrics: a[k].metricsWith(w2, goal, false)})
		}
		sort.Slice(rows, less(rows))
		for i := offset; i < min(need, len(rows)); i++ {
			rows[i].Metrics = a[rows[i].Value].metrics(w2, goal)
		}
	case o.Metric != "CONVERSION_RATE" && !o.Asc:
		rows = topByVisitors(a, keys, w2, goal, need, less)
	default:
		rows = make([]Row, 0, len(keys))
		for _, k := range keys {
			rows = append(rows, Row{Value: k, Metrics: a[k].metrics(w2, goal)})
		}
		sort.Slice(rows, less(rows))
	}
	total := len(keys)
	p := &Page{Total: total}
	if offset > len(rows) {
		offset = len(rows)
	}
	end := min(offset+limit, len(rows))
	p.Rows = rows[offset:end]
	p.HasNext = offset+limit < total
	p.EndCursor = EncodeCursor(min(offset+limit, total))
	return p, nil
}

// topByVisitors returns the first need rows by visitors, descending, in the
// same order a full sort would give, counting as few sketches as it can:
// rows are visited by an upper bound of their visitors, and once need rows
// are counted and the need-th of them has more visitors than the next
// row's bound, no row left can enter (a tie could, through the order by
// value, so ties keep counting).
func topByVisitors(a accs, keys []string, w Want, goal bool, need int, less func([]Row) func(i, j int) bool) []Row {
	type cand struct {
		key   string
		bound int64
	}
	cands := make([]cand, len(keys))
	for i, k := range keys {
		cands[i] = cand{k, a[k].visitorsBound()}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].bound != cands[j].bound {
			return cands[i].bound > cands[j].bound
		}
		return cands[i].key < cands[j].key
	})
	rows := make([]Row, 0, min(len(cands), 4*need))
	// best holds the visitors of the counted rows, kept sorted descending
	// and cut to need entries.
	best := make([]int64, 0, need+1)
	for _, c := range cands {
		if len(best) == need && best[need-1] > c.bound {
			break
		}
		m := a[c.key].metrics(w, goal)
		rows = append(rows, Row{Value: c.key, Metrics: m})
		j := sort.Search(len(best), func(j int) bool { return best[j] < m.Visitors })
		best = append(best, 0)
		copy(best[j+1:], best[j:])
		best[j] = m.Visitors
		if len(best) > need {
			best = best[:need]
		}
	}
	sort.Slice(rows, less(rows))
	return rows
}

// String describes a query for logs (no visitor data).
func (q *Query) String() string {
	return fmt.Sprintf("site %d days %d..%d filters %d", q.Site.ID, q.Range.FromDay, q.Range.ToDay, len(q.Filters))
}

// Comparison pairs a query with the same query over the comparison range.
type Comparison struct {
	Current, Previous *Query
}
