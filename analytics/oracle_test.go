package analytics_test

import (
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/analytics"
	"github.com/tallyhq/tally/db"
)

// The oracle answers stats questions by brute force over the fixture's
// in-memory rows, following the definitions in the package documentation.
// It shares no code with the package under test except the input types.

type oFilter struct {
	dim     string
	propKey string
	op      string
	values  []string
}

type oQuery struct {
	from, to time.Time // local dates, inclusive
	filters  []oFilter
	goal     *analytics.Goal
}

type oMetrics struct {
	visitors, visits, pageviews, events int64
	bounces, duration, sessPV           int64
	revenue                             map[string]decimal.Decimal
	baseVisitors                        int64
}

func (f *fixture) bounds(q oQuery) (int64, int64) {
	from := time.Date(q.from.Year(), q.from.Month(), q.from.Day(), 0, 0, 0, 0, f.loc).Unix()
	to := time.Date(q.to.Year(), q.to.Month(), q.to.Day()+1, 0, 0, 0, 0, f.loc).Unix()
	return from, to
}

func eventField(e *db.Event, dim, propKey string) string {
	switch dim {
	case "PAGE":
		return e.Pathname
	case "HOSTNAME":
		return e.Hostname
	case "EVENT_NAME":
		return e.Name
	case "PROP":
		return e.Props[propKey]
	}
	panic("not an event dimension: " + dim)
}

func sessionField(s *db.Session, dim string) string {
	m := map[string]string{
		"ENTRY_PAGE": s.EntryPage, "EXIT_PAGE": s.ExitPage, "SOURCE": s.Source, "CHANNEL": s.Channel, "REFERRER": s.Referrer,
		"UTM_SOURCE": s.UTMSource, "UTM_MEDIUM": s.UTMMedium, "UTM_CAMPAIGN": s.UTMCampaign, "UTM_TERM": s.UTMTerm, "UTM_CONTENT": s.UTMContent,
		"COUNTRY": s.Country, "REGION": s.Region, "CITY": s.City, "BROWSER": s.Browser, "BROWSER_VERSION": s.BrowserVersion,
		"OS": s.OS, "OS_VERSION": s.OSVersion, "DEVICE": s.Device,
	}
	v, ok := m[dim]
	if !ok {
		panic("not a visit dimension: " + dim)
	}
	return v
}

func isEventDim(dim string) bool {
	return dim == "PAGE" || dim == "HOSTNAME" || dim == "EVENT_NAME" || dim == "PROP"
}

func (o oFilter) match(v string) bool {
	hit := false
	for _, x := range o.values {
		switch o.op {
		case "IS", "IS_NOT":
			hit = hit || v == x
		case "CONTAINS":
			hit = hit || strings.Contains(v, x)
		case "MATCHES":
			hit = hit || regexp.MustCompile(x).MatchString(v)
		}
	}
	if o.op == "IS_NOT" {
		return !hit
	}
	return hit
}

func goalHit(g *analytics.Goal, e *db.Event) bool {
	if g.Kind == analytics.GoalEvent {
		return e.Name == g.EventName
	}
	if e.Name != "pageview" {
		return false
	}
	// page patterns: * is any run of characters, everything else literal
	pat := g.PagePath
	path := e.Pathname
	parts := strings.Split(pat, "*")
	if !strings.HasPrefix(path, parts[0]) {
		return false
	}
	path = path[len(parts[0]):]
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		if last {
			return strings.HasSuffix(path, p)
		}
		k := strings.Index(path, p)
		if k < 0 {
			return false
		}
		path = path[k+len(p):]
	}
	return path == ""
}

// answer computes metrics per key; key maps an event (or a visit, for visit
// metrics) to its group keys.
func (f *fixture) answer(q oQuery, evKey func(e *db.Event, s *db.Session) (string, bool), sKey func(s *db.Session, keys map[string]bool) []string) map[string]*oMetrics {
	from, to := f.bounds(q)
	out := map[string]*oMetrics{}
	get := func(k string) *oMetrics {
		if out[k] == nil {
			out[k] = &oMetrics{}
		}
		return out[k]
	}
	sessOK := func(s *db.Session) bool {
		for _, fl := range q.filters {
			if !isEventDim(fl.dim) && !fl.match(sessionField(s, fl.dim)) {
				return false
			}
		}
		return true
	}
	evOK := func(e *db.Event, withGoal bool) bool {
		if e.TS < from || e.TS >= to {
			return false
		}
		for _, fl := range q.filters {
			if isEventDim(fl.dim) && !fl.match(eventField(e, fl.dim, fl.propKey)) {
				return false
			}
		}
		if withGoal && q.goal != nil && !goalHit(q.goal, e) {
			return false
		}
		s := f.sessions[e.SessionID]
		return sessOK(&s)
	}
	visitors := map[string]map[int64]bool{}
	base := map[string]map[int64]bool{}
	sessEventKeys := map[int64]map[string]bool{} // per visit: keys of its matching events
	for i := range f.events {
		e := &f.events[i]
		s := f.sessions[e.SessionID]
		if q.goal != nil && evOK(e, false) {
			if k, ok := evKey(e, &s); ok {
				if base[k] == nil {
					base[k] = map[int64]bool{}
				}
				base[k][e.VisitorID] = true
			}
		}
		if !evOK(e, true) {
			continue
		}
		k, ok := evKey(e, &s)
		if sessEventKeys[e.SessionID] == nil {
			sessEventKeys[e.SessionID] = map[string]bool{}
		}
		if ok {
			sessEventKeys[e.SessionID][k] = true
		}
		if !ok {
			continue
		}
		m := get(k)
		m.events++
		if e.Name == "pageview" {
			m.pageviews++
		}
		if visitors[k] == nil {
			visitors[k] = map[int64]bool{}
		}
		visitors[k][e.VisitorID] = true
		if e.RevenueAmount != nil {
			if m.revenue == nil {
				m.revenue = map[string]decimal.Decimal{}
			}
			m.revenue[e.RevenueCurrency] = m.revenue[e.RevenueCurrency].Add(decimal.RequireFromString(*e.RevenueAmount))
		}
	}
	for k, v := range visitors {
		get(k).visitors = int64(len(v))
	}
	for k, v := range base {
		get(k).baseVisitors = int64(len(v))
	}
	eventFiltered := q.goal != nil
	for _, fl := range q.filters {
		eventFiltered = eventFiltered || isEventDim(fl.dim)
	}
	for id, s := range f.sessions {
		if s.StartedAt < from || s.StartedAt >= to || !sessOK(&s) {
			continue
		}
		keys, has := sessEventKeys[id]
		if eventFiltered && !has {
			continue
		}
		for _, k := range sKey(&s, keys) {
			m := get(k)
			m.visits++
			m.duration += int64(s.Duration)
			m.sessPV += int64(s.Pageviews)
			if s.IsBounce {
				m.bounces++
			}
		}
	}
	return out
}
