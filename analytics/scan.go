package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/tallyhq/tally/db"
)

// A filtered dashboard asks the same raw rows many questions: every part
// (aggregate, time series, each breakdown) needs the events that match the
// filters and, for visit metrics and visit dimensions, their visits. Asked
// one SQL query per part, a 30-day page filter over ten million events read
// the page's rows fourteen times and looked up its visits eight times. A
// Scans shared by the parts of one request reads them once, and each part
// is then computed in Go from that slice.
//
// The slice is only used where it gives the same answers as the SQL path:
// queries with an event filter and no goal, not grouped by a property, and
// not larger than maxScanEvents matching events.

// maxScanEvents bounds the events (about 100 bytes each) and so the visits
// (about 400) one shared scan keeps in memory: under about 150 MB. Larger
// questions go to SQL part by part.
var maxScanEvents = 300_000

// Scans caches the shared scans of one request. The zero value is not
// usable; NewScans makes one. It is safe for concurrent use by the
// resolvers of one request.
type Scans struct {
	mu    sync.Mutex
	byKey map[string]*scanEntry
}

type scanEntry struct {
	once sync.Once
	sc   *scan
	err  error
}

// NewScans returns an empty cache; give it to the Query of one request.
func NewScans() *Scans { return &Scans{byKey: map[string]*scanEntry{}} }

// scanEvent is one matching event; sess is its visit when the visit exists
// and passes the visit filters.
type scanEvent struct {
	ts                       int64
	pageview                 bool
	visitor                  int64
	name, pathname, hostname string
	sess                     *db.Session
}

// scanVisit is a loaded visit and the indexes of its matching events.
type scanVisit struct {
	s      *db.Session
	events []int32
}

type scan struct {
	events []scanEvent
	visits []scanVisit
}

func usesScan(q *Query, g grouping) bool {
	return q.Scans != nil && q.Goal == nil && g.dim != DimProp && hasEventFilter(q, false)
}

// sharedScan returns the request's scan of q's range, loading it on first
// use; nil (and no error) when the range holds too many events.
func (q *Query) sharedScan(ctx context.Context, d *db.DB) (*scan, error) {
	key := fmt.Sprintf("%d:%d", q.Range.From(), q.Range.To())
	q.Scans.mu.Lock()
	e := q.Scans.byKey[key]
	if e == nil {
		e = &scanEntry{}
		q.Scans.byKey[key] = e
	}
	q.Scans.mu.Unlock()
	e.once.Do(func() { e.sc, e.err = loadScan(ctx, d, q) })
	return e.sc, e.err
}

var scanSessionCols = "s.session_id, s.started_at, s.last_seen, s.entry_page, s.exit_page, s.hostname, s.referrer, s.source, s.channel, " +
	"s.utm_source, s.utm_medium, s.utm_campaign, s.utm_term, s.utm_content, s.country, s.region, s.city, " +
	"s.browser, s.browser_version, s.os, s.os_version, s.device, s.pageviews, s.events, s.duration, s.is_bounce"

func loadScan(ctx context.Context, d *db.DB, q *Query) (*scan, error) {
	b := &sqlb{pg: d.IsPostgres()}
	conds := b.eventConds(q, false)
	query := "SELECT e.ts, e.name, e.visitor_id, e.session_id, e.pathname, e.hostname FROM events e WHERE " +
		strings.Join(conds, " AND ") + " LIMIT " + fmt.Sprint(maxScanEvents+1)
	sc := &scan{}
	bySession := map[int64][]int32{}
	err := eachRow(ctx, d, query, b.args, func(rows *sql.Rows) error {
		var e scanEvent
		var sid int64
		if err := rows.Scan(&e.ts, &e.name, &e.visitor, &sid, &e.pathname, &e.hostname); err != nil {
			return err
		}
		e.pageview = e.name == "pageview"
		bySession[sid] = append(bySession[sid], int32(len(sc.events)))
		sc.events = append(sc.events, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("filtered scan of events: %w", err)
	}
	if len(sc.events) > maxScanEvents {
		return nil, nil
	}
	// in key order, so the lookups walk the primary key forwards
	ids := slices.Sorted(maps.Keys(bySession))
	const chunk = 5000
	for lo := 0; lo < len(ids); lo += chunk {
		part, err := loadVisitChunk(ctx, d, q, ids[lo:min(lo+chunk, len(ids))])
		if err != nil {
			return nil, fmt.Errorf("filtered scan of visits: %w", err)
		}
		for _, s := range part {
			idx := bySession[s.SessionID]
			for _, i := range idx {
				sc.events[i].sess = s
			}
			sc.visits = append(sc.visits, scanVisit{s: s, events: idx})
		}
	}
	return sc, nil
}

// loadVisitChunk reads the visits of some ids, with the bounds of the SQL
// path's join (implied by the events being in the range) and the visit
// filters.
func loadVisitChunk(ctx context.Context, d *db.DB, q *Query, ids []int64) ([]*db.Session, error) {
	b := &sqlb{pg: d.IsPostgres()}
	where := []string{"s.site_id = " + b.arg(q.Site.ID)}
	if b.pg {
		where = append(where, "s.session_id = ANY("+b.arg(pgdialect.Array(ids))+")")
	} else {
		ph := make([]string, len(ids))
		for i, id := range ids {
			ph[i] = b.arg(id)
		}
		where = append(where, "s.session_id IN ("+strings.Join(ph, ", ")+")")
	}
	where = append(where, "s.last_seen >= "+b.arg(q.Range.From()), "s.started_at < "+b.arg(q.Range.To()))
	where = append(where, b.sessionFilterConds(q)...)
	out := make([]*db.Session, 0, len(ids))
	err := eachRow(ctx, d, "SELECT "+scanSessionCols+" FROM sessions s WHERE "+strings.Join(where, " AND "), b.args, func(rows *sql.Rows) error {
		s := &db.Session{SiteID: q.Site.ID}
		if err := rows.Scan(&s.SessionID, &s.StartedAt, &s.LastSeen, &s.EntryPage, &s.ExitPage, &s.Hostname, &s.Referrer, &s.Source, &s.Channel,
			&s.UTMSource, &s.UTMMedium, &s.UTMCampaign, &s.UTMTerm, &s.UTMContent, &s.Country, &s.Region, &s.City,
			&s.Browser, &s.BrowserVersion, &s.OS, &s.OSVersion, &s.Device, &s.Pageviews, &s.Events, &s.Duration, &s.IsBounce); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// bucketOf is the index of the time-series bucket holding ts, as keyExpr's
// CASE expression computes it (the first bucket ending after ts).
func bucketOf(bs []bucket, ts int64) (int, bool) {
	i := sort.Search(len(bs), func(i int) bool { return ts < bs[i].to })
	return i, i < len(bs)
}

// eventValue is an event dimension of a scanned event.
func eventValue(d Dimension, e *scanEvent) string {
	switch d {
	case DimPage:
		return e.pathname
	case DimHostname:
		return e.hostname
	case DimEventName:
		return e.name
	}
	panic(fmt.Sprintf("analytics: %q is not a scanned event dimension", d))
}

func (a *acc) addEvent(e *scanEvent, visitors bool) {
	a.events++
	if e.pageview {
		a.pageviews++
	}
	if visitors {
		if a.sk == nil {
			a.sk = NewSketch()
		}
		a.sk.Add(e.visitor)
	}
}

func (a *acc) addVisit(s *db.Session) {
	a.visits++
	if s.IsBounce {
		a.bounces++
	}
	a.duration += int64(s.Duration)
	a.sessPV += int64(s.Pageviews)
}

// eventMetrics is rawEvents over the shared scan.
func (sc *scan) eventMetrics(q *Query, g grouping, w Want, out accs) {
	if g.dim.IsSession() {
		// one group per visit: look it up once for all its events
		for _, v := range sc.visits {
			a := out.get(sessionValue(g.dim, v.s))
			for _, i := range v.events {
				a.addEvent(&sc.events[i], w.Visitors)
			}
		}
		return
	}
	// with a visit filter, events whose visit failed it do not count
	visitFiltered := hasSessionFilter(q)
	if g.buckets != nil {
		byBucket := make([]*acc, len(g.buckets))
		for i := range sc.events {
			e := &sc.events[i]
			if visitFiltered && e.sess == nil {
				continue
			}
			b, ok := bucketOf(g.buckets, e.ts)
			if !ok {
				continue
			}
			if byBucket[b] == nil {
				byBucket[b] = out.get(bucketKey(b))
			}
			byBucket[b].addEvent(e, w.Visitors)
		}
		return
	}
	var total *acc
	for i := range sc.events {
		e := &sc.events[i]
		if visitFiltered && e.sess == nil {
			continue
		}
		if g.dim == "" {
			if total == nil {
				total = out.get("")
			}
			total.addEvent(e, w.Visitors)
			continue
		}
		out.get(eventValue(g.dim, e)).addEvent(e, w.Visitors)
	}
}

// visitMetrics is rawSessions over the shared scan: each visit that started
// in the range and has a matching event counts once per group (once per
// distinct value of an event dimension among its matching events).
func (sc *scan) visitMetrics(q *Query, g grouping, out accs) {
	from, to := q.Range.From(), q.Range.To()
	eventDim := g.dim != "" && !g.dim.IsSession()
	var keys []string
	for _, v := range sc.visits {
		s := v.s
		if s.StartedAt < from || s.StartedAt >= to {
			continue
		}
		switch {
		case eventDim:
			keys = keys[:0]
			for _, i := range v.events {
				k := eventValue(g.dim, &sc.events[i])
				if !slices.Contains(keys, k) {
					keys = append(keys, k)
					out.get(k).addVisit(s)
				}
			}
		case g.buckets != nil:
			if b, ok := bucketOf(g.buckets, s.StartedAt); ok {
				out.get(bucketKey(b)).addVisit(s)
			}
		case g.dim != "":
			out.get(sessionValue(g.dim, s)).addVisit(s)
		default:
			out.get("").addVisit(s)
		}
	}
}
