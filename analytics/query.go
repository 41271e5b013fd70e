package analytics

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
)

// Op is how a filter compares a dimension with its values.
type Op string

const (
	OpIs       Op = "IS"
	OpIsNot    Op = "IS_NOT"
	OpContains Op = "CONTAINS"
	OpMatches  Op = "MATCHES"
)

// Filter keeps rows whose dimension matches any of Values (IS_NOT: none).
type Filter struct {
	Dim     Dimension
	PropKey string
	Op      Op
	Values  []string
	res     []*regexp.Regexp
}

// NewFilter validates a filter; field names the argument in errors.
func NewFilter(field string, dim Dimension, propKey string, op Op, values []string) (Filter, error) {
	f := Filter{Dim: dim, PropKey: propKey, Op: op, Values: values}
	if !dim.Valid() {
		return f, apperr.Invalid(field+".dimension", "unknown dimension %q", dim)
	}
	if dim == DimProp && propKey == "" {
		return f, apperr.Invalid(field+".propKey", "is required with dimension PROP")
	}
	if len(values) == 0 {
		return f, apperr.Invalid(field, "needs at least one value")
	}
	switch op {
	case OpIs, OpIsNot, OpContains:
	case OpMatches:
		for i, v := range values {
			re, err := regexp.Compile(v)
			if err != nil {
				return f, apperr.Invalid(fmt.Sprintf("%s.matches[%d]", field, i), "invalid regular expression %q: %v", v, err)
			}
			f.res = append(f.res, re)
		}
	default:
		return f, apperr.Invalid(field, "unknown operator %q", op)
	}
	return f, nil
}

// Match applies the filter to one value (used for realtime and tests of the
// filter semantics).
func (f Filter) Match(v string) bool {
	any := false
	for i, x := range f.Values {
		switch f.Op {
		case OpIs, OpIsNot:
			any = v == x
		case OpContains:
			any = strings.Contains(v, x)
		case OpMatches:
			any = f.res[i].MatchString(v)
		}
		if any {
			break
		}
	}
	if f.Op == OpIsNot {
		return !any
	}
	return any
}

// Range is a span of whole local days in a site's time zone.
type Range struct {
	FromDay, ToDay int // inclusive
	Loc            *time.Location
}

// From and To bound the range in Unix seconds, [From, To).
func (r Range) From() int64 { return dayStart(r.FromDay, r.Loc) }
func (r Range) To() int64   { return dayStart(r.ToDay+1, r.Loc) }

// FromDate and ToDate are the calendar dates of the range.
func (r Range) FromDate() time.Time { return dayDate(r.FromDay) }
func (r Range) ToDate() time.Time   { return dayDate(r.ToDay) }

// Query is one stats question about a site.
type Query struct {
	Site    *db.Site
	Range   Range
	Filters []Filter
	Goal    *Goal
	// Compare, when set, asks for a comparison range.
	Compare Compare
	// Scans, when set, lets the parts of one request share one read of the
	// filtered raw rows (see scan.go); copies of the query share it.
	Scans *Scans
}

// Want says which metrics to compute; the rest stay zero.
type Want struct {
	Visitors, Visits, Pageviews, Events      bool
	ViewsPerVisit, BounceRate, VisitDuration bool
	ConversionRate, Revenue                  bool
}

func (w Want) eventGroup() bool { return w.Visitors || w.Pageviews || w.Events }
func (w Want) sessionGroup() bool {
	return w.Visits || w.ViewsPerVisit || w.BounceRate || w.VisitDuration
}

// AllMetrics wants everything.
var AllMetrics = Want{true, true, true, true, true, true, true, true, true}

// Money is an amount in one currency; currencies are never added together.
type Money struct {
	Currency string
	Amount   decimal.Decimal
}

// Metrics are the numbers of one aggregate, breakdown row or time bucket.
type Metrics struct {
	Visitors, Visits, Pageviews, Events int64
	ViewsPerVisit                       float64
	BounceRate                          float64 // percent, 0–100
	VisitDuration                       float64 // seconds, mean over visits
	// ConversionRate is the percentage of visitors who reached the goal; nil
	// without a goal.
	ConversionRate *float64
	Revenue        []Money
}

// acc collects the parts metrics are computed from.
type acc struct {
	pageviews, events, visitors       int64
	sk                                *Sketch
	visits, bounces, duration, sessPV int64
	baseVisitors                      int64
	revenue                           map[string]decimal.Decimal
}

func (a *acc) metrics(w Want, goal bool) Metrics { return a.metricsWith(w, goal, true) }

// metricsWith computes the metrics; without countVisitors a sketch's
// visitors stay uncounted (zero), since counting a merged sketch is the
// most expensive part of a breakdown row.
func (a *acc) metricsWith(w Want, goal, countVisitors bool) Metrics {
	m := Metrics{Pageviews: a.pageviews, Events: a.events, Visits: a.visits}
	m.Visitors = a.visitors
	if a.sk != nil {
		m.Visitors = 0
		if countVisitors {
			m.Visitors = a.sk.Count()
		}
	}
	if a.visits > 0 {
		v := float64(a.visits)
		m.ViewsPerVisit = float64(a.sessPV) / v
		m.BounceRate = 100 * float64(a.bounces) / v
		m.VisitDuration = float64(a.duration) / v
	}
	if goal && w.ConversionRate {
		r := 0.0
		if a.baseVisitors > 0 {
			r = 100 * float64(m.Visitors) / float64(a.baseVisitors)
		}
		m.ConversionRate = &r
	}
	if len(a.revenue) > 0 {
		cur := make([]string, 0, len(a.revenue))
		for c := range a.revenue {
			cur = append(cur, c)
		}
		sort.Strings(cur)
		for _, c := range cur {
			m.Revenue = append(m.Revenue, Money{c, a.revenue[c]})
		}
	}
	return m
}

type accs map[string]*acc

// visitorsBound is an upper bound of the row's distinct visitors that costs
// nothing to read: the exact count without a sketch, the estimate of a
// HyperLogLog sketch, and the number of hashes (repeats included) of an
// exact set that has not been deduplicated yet.
func (a *acc) visitorsBound() int64 {
	switch {
	case a.sk == nil:
		return a.visitors
	case a.sk.hll != nil:
		return a.sk.Count()
	}
	return int64(len(a.sk.set))
}

func (m accs) get(k string) *acc {
	a := m[k]
	if a == nil {
		a = &acc{}
		m[k] = a
	}
	return a
}

// grouping says how rows are keyed: not at all, by a dimension, or by time
// bucket (the key is the bucket index).
type grouping struct {
	dim     Dimension // "" for none
	propKey string
	buckets []bucket
}

func bucketKey(i int) string { return strconv.Itoa(i) }
