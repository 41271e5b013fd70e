package analytics

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

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

// scanEvent is one matching event; visited says that its visit exists and
// passes the visit filters.
type scanEvent struct {
	ts                int64
	visitor           int64
	name, pathname    string
	pageview, visited bool
}

// scanSess is what the scan keeps of a visit: its metrics and the
// dimensions of analytics_sessions_cover, and the complete row when one was
// read (SQLite). A page-filtered dashboard holds about 100,000 of them; as
// db.Session rows (about 400 bytes, 20 strings) allocating, clearing and
// garbage-collecting them cost more than the parts computed from them.
type scanSess struct {
	id, startedAt                               int64
	pageviews, duration                         int64
	bounce                                      bool
	entryPage, source, country, browser, device string
	full                                        *db.Session
}

func newScanSess(s *db.Session) scanSess {
	return scanSess{id: s.SessionID, startedAt: s.StartedAt, pageviews: int64(s.Pageviews), duration: int64(s.Duration), bounce: s.IsBounce,
		entryPage: s.EntryPage, source: s.Source, country: s.Country, browser: s.Browser, device: s.Device, full: s}
}

// scanVisit is a loaded visit and the indexes of its matching events.
type scanVisit struct {
	s      *scanSess
	events []int32
}

type scan struct {
	events []scanEvent
	visits []scanVisit

	// On PostgreSQL the visits are first read from the covering index
	// analytics_sessions_cover and hold only its columns (see coveredDims);
	// the other visit dimensions are read by key, once per scan, when a part
	// first asks for one. On SQLite the visits are complete from the start.
	ids      []int64 // the visits asked for, sorted
	complete bool
	fullOnce sync.Once
	full     map[int64]*db.Session
	fullErr  error
}

// coveredDims are the visit dimensions in analytics_sessions_cover, the
// ones of the dashboard; with the visit metrics (visits, bounces, duration,
// pageviews) they are what a page-filtered dashboard reads of its visits.
var coveredDims = []Dimension{DimEntryPage, DimSource, DimCountry, DimBrowser, DimDevice}

var scanCoveredCols = "s.session_id, s.started_at, s.pageviews, s.duration, s.is_bounce, s.entry_page, s.source, s.country, s.browser, s.device"

// needVisitDim makes sure the scan's visits carry dimension dim, reading
// the complete visit rows the first time a part needs one that the covering
// index lacks.
func (sc *scan) needVisitDim(ctx context.Context, d *db.DB, q *Query, dim Dimension) error {
	if !dim.IsSession() || sc.complete || slices.Contains(coveredDims, dim) {
		return nil
	}
	sc.fullOnce.Do(func() {
		parts, err := loadVisits(ctx, d, q, sc.ids)
		if err != nil {
			sc.fullErr = fmt.Errorf("filtered scan of visits: %w", err)
			return
		}
		sc.full = map[int64]*db.Session{}
		for _, part := range parts {
			for i := range part {
				sc.full[part[i].SessionID] = &part[i]
			}
		}
	})
	return sc.fullErr
}

// visitValue returns sessionValue for the visits of the scan, chosen once
// per part: from the covering index's columns when it has the dimension,
// else from the complete row (needVisitDim loaded it; a visit deleted in
// between reads as "").
func (sc *scan) visitValue(dim Dimension) func(s *scanSess) string {
	switch dim {
	case DimEntryPage:
		return func(s *scanSess) string { return s.entryPage }
	case DimSource:
		return func(s *scanSess) string { return s.source }
	case DimCountry:
		return func(s *scanSess) string { return s.country }
	case DimBrowser:
		return func(s *scanSess) string { return s.browser }
	case DimDevice:
		return func(s *scanSess) string { return s.device }
	}
	return func(s *scanSess) string {
		if s.full != nil {
			return sessionValue(dim, s.full)
		}
		if f := sc.full[s.id]; f != nil {
			return sessionValue(dim, f)
		}
		return ""
	}
}

// usesScan reports whether a part is answered from the shared scan. The
// scan holds the columns of the page index only (an index-only read on
// PostgreSQL); a hostname breakdown, which would need every event's heap
// row, runs its own SQL queries.
func usesScan(q *Query, g grouping) bool {
	return q.Scans != nil && q.Goal == nil && g.dim != DimProp && g.dim != DimHostname && hasEventFilter(q, false)
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

// scanEventsQuery selects the matching events, at most maxScanEvents+1 of
// them; before, when not 0, is an upper bound on their time and since a
// lower one.
func scanEventsQuery(b *sqlb, q *Query, since, before int64) string {
	conds := b.eventConds(q, false)
	if since != 0 {
		conds = append(conds, "e.ts >= "+b.arg(since))
	}
	if before != 0 {
		conds = append(conds, "e.ts < "+b.arg(before))
	}
	return "SELECT e.ts, e.name, e.visitor_id, e.session_id, e.pathname FROM events e WHERE " +
		strings.Join(conds, " AND ") + " LIMIT " + fmt.Sprint(maxScanEvents+1)
}

// loadEventsPG reads the matching events and their visit ids on
// PostgreSQL, the two halves of the range on two connections at once: the
// index read is PostgreSQL's work and the decoding is ours, and one
// connection left one of the two cores idle much of the time. Each half
// stops at maxScanEvents+1, so a scan too large is still recognised.
func loadEventsPG(ctx context.Context, d *db.DB, q *Query) ([]scanEvent, []int64, error) {
	from, to := q.Range.From(), q.Range.To()
	mid := from + (to-from)/2
	// Each half decodes into chunks of a fixed size, copied once into
	// slices of the final size: grown by doubling, the two slices were
	// copied about twice over, then once more to join them.
	const chunk = 8192
	var events [2][][]scanEvent
	var sids [2][][]int64
	var errs [2]error
	var wg sync.WaitGroup
	for h := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := &sqlb{pg: true}
			since, before := int64(0), mid
			if h == 1 {
				since, before = mid, 0
			}
			query := scanEventsQuery(b, q, since, before)
			strs := interner{}
			errs[h] = eachTextRow(ctx, d, query, b.args, func(v [][]byte) error {
				ts, err1 := parseInt(v[0])
				visitor, err2 := parseInt(v[2])
				sid, err3 := parseInt(v[3])
				if err := errors.Join(err1, err2, err3); err != nil {
					return err
				}
				last := len(events[h]) - 1
				if last < 0 || len(events[h][last]) == chunk {
					events[h] = append(events[h], make([]scanEvent, 0, chunk))
					sids[h] = append(sids[h], make([]int64, 0, chunk))
					last++
				}
				events[h][last] = append(events[h][last], scanEvent{ts: ts, visitor: visitor, name: strs.get(v[1]), pathname: strs.get(v[4])})
				sids[h][last] = append(sids[h][last], sid)
				return nil
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, nil, err
	}
	n := 0
	for _, c := range events[0] {
		n += len(c)
	}
	for _, c := range events[1] {
		n += len(c)
	}
	allEvents, allSids := make([]scanEvent, 0, n), make([]int64, 0, n)
	for h := range 2 {
		for k := range events[h] {
			allEvents = append(allEvents, events[h][k]...)
			allSids = append(allSids, sids[h][k]...)
		}
	}
	return allEvents, allSids, nil
}

func loadScan(ctx context.Context, d *db.DB, q *Query) (*scan, error) {
	b := &sqlb{pg: d.IsPostgres()}
	sc := &scan{}
	var sids []int64 // the visit of each event
	var err error
	if b.pg {
		sc.events, sids, err = loadEventsPG(ctx, d, q)
	} else {
		err = eachRow(ctx, d, scanEventsQuery(b, q, 0, 0), b.args, func(rows *sql.Rows) error {
			var e scanEvent
			var sid int64
			if err := rows.Scan(&e.ts, &e.name, &e.visitor, &sid, &e.pathname); err != nil {
				return err
			}
			sc.events = append(sc.events, e)
			sids = append(sids, sid)
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("filtered scan of events: %w", err)
	}
	if len(sc.events) > maxScanEvents {
		return nil, nil
	}
	for i := range sc.events {
		sc.events[i].pageview = sc.events[i].name == "pageview"
	}
	// The events grouped by visit: their indexes sorted by visit id, so
	// each visit's events are one run of byVisit (a map of 100,000 small
	// slices cost more to build than the rest of the grouping), and the
	// distinct ids come out in key order, so the lookups walk the primary
	// key forwards.
	byVisit := make([]int32, len(sids))
	for i := range byVisit {
		byVisit[i] = int32(i)
	}
	slices.SortFunc(byVisit, func(a, b int32) int { return cmp.Compare(sids[a], sids[b]) })
	var ids []int64
	var runs []int // runs[k] is where the events of ids[k] start in byVisit
	for n, i := range byVisit {
		if len(ids) == 0 || ids[len(ids)-1] != sids[i] {
			ids = append(ids, sids[i])
			runs = append(runs, n)
		}
	}
	runs = append(runs, len(byVisit))
	sc.ids = ids
	var parts [][]scanSess
	if b.pg {
		// the latest matching event of each visit, which says in which
		// half of the range its last_seen is likely to be
		latest := make([]int64, len(ids))
		for k := range ids {
			for _, i := range byVisit[runs[k]:runs[k+1]] {
				latest[k] = max(latest[k], sc.events[i].ts)
			}
		}
		parts, err = loadCoveredVisits(ctx, d, q, ids, latest)
	} else {
		var rows [][]db.Session
		rows, err = loadVisits(ctx, d, q, ids)
		for _, part := range rows {
			p := make([]scanSess, len(part))
			for i := range part {
				p[i] = newScanSess(&part[i])
			}
			parts = append(parts, p)
		}
		sc.complete = true
	}
	if err != nil {
		return nil, fmt.Errorf("filtered scan of visits: %w", err)
	}
	sc.visits = make([]scanVisit, 0, len(ids))
	for _, part := range parts {
		for i := range part {
			s := &part[i]
			k, ok := slices.BinarySearch(ids, s.id)
			if !ok {
				return nil, fmt.Errorf("filtered scan: visit %d was not asked for", s.id)
			}
			idx := byVisit[runs[k]:runs[k+1]:runs[k+1]]
			for _, i := range idx {
				sc.events[i].visited = true
			}
			sc.visits = append(sc.visits, scanVisit{s: s, events: idx})
		}
	}
	return sc, nil
}

// loadCoveredVisits reads the covering index's columns of the visits of ids
// (PostgreSQL only), with the bounds of the SQL path's join (implied by the
// events being in the range) and the visit filters; latest[k] is the time
// of the latest matching event of ids[k]. A few ids go into an array,
// which the planner looks up by key; many (a popular page) into a bitmap
// (see loadCoveredPart), and PostgreSQL reads the period's visits from
// analytics_sessions_cover alone and keeps those on a set bit, about 0.4 µs
// a visit of the period instead of about 4 µs a lookup. Visit filters on
// columns outside the index make PostgreSQL read the heap rows too; the
// answers are the same.
//
// The period is read in two halves by last_seen, on two connections:
// PostgreSQL reads one half while the other is read, and this process
// decodes both. Each half gets only the ids that can be in it, because
// planning an array costs about as much per element as reading a visit
// (the planner estimates the selectivity of every element): a visit whose
// latest matching event is in the second half was last seen there, and one
// whose latest matching event is in the first half almost always was too.
// The few of the latter that went on past the middle (or that a visit
// filter rejected) are asked for again in the second half.
func loadCoveredVisits(ctx context.Context, d *db.DB, q *Query, ids, latest []int64) ([][]scanSess, error) {
	from, to := q.Range.From(), q.Range.To()
	mid := from + (to-from)/2
	var early, late []int64 // sorted, as ids is
	for k, id := range ids {
		if latest[k] < mid {
			early = append(early, id)
		} else {
			late = append(late, id)
		}
	}
	halves := []struct {
		ids    []int64
		lo, hi int64 // hi 0: no upper bound (visits that end after the range)
	}{{early, from, mid}, {late, mid, 0}}
	out := make([][]scanSess, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for h, half := range halves {
		if len(half.ids) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[h], errs[h] = loadCoveredPart(ctx, d, q, half.ids, half.lo, half.hi)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	found := make([]bool, len(early))
	for i := range out[0] {
		if k, ok := slices.BinarySearch(early, out[0][i].id); ok {
			found[k] = true
		}
	}
	var again []int64
	for k, id := range early {
		if !found[k] {
			again = append(again, id)
		}
	}
	if len(again) > 0 {
		rest, err := loadCoveredPart(ctx, d, q, again, mid, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, rest)
	}
	return out, nil
}

// bitmapMinIDs is the number of ids from which loadCoveredPart asks for
// them with a bitmap instead of an array. Planning `session_id = ANY(array)`
// costs about 0.5–0.8 µs per element (the planner estimates the selectivity
// of each): 43–78 ms for the 47,000–95,000 ids of a half of a popular
// page's month at 10 M events, about half as long as reading the half's
// 200,000 index entries; a bitmap is one constant to the planner. Below this the planner
// looks the few visits up by key, which the bitmap would not let it do.
var bitmapMinIDs = 5000

// bitmapMinBits and bitmapBitsPerID size idBitmap's bitmaps: at least 8 KiB
// and 32 bits per id.
var bitmapMinBits, bitmapBitsPerID = 1 << 16, 32

// idBitmap sets bit (id & mask) for every id, in the layout of
// PostgreSQL's get_bit (bit k is bit k%8 of byte k/8). With at least 32 bits
// per id and random ids (collect's), about 3 % of the other visits read
// share a bit with an asked-for one; loadCoveredPart drops them.
func idBitmap(ids []int64) ([]byte, int64) {
	bits := bitmapMinBits
	for bits < bitmapBitsPerID*len(ids) {
		bits <<= 1
	}
	bm := make([]byte, bits/8)
	mask := int64(bits - 1)
	for _, id := range ids {
		k := id & mask
		bm[k>>3] |= 1 << (k & 7)
	}
	return bm, mask
}

// useBitmap says whether loadCoveredPart asks for n ids with a bitmap. The
// bitmap leaves PostgreSQL one way to find them: reading the covering
// index from lo to hi. Without an upper bound that read runs to the
// present, which for a period long past is every later visit (a year of
// them at 10 M events a year); there the array lets the planner look the
// visits up by key instead. Two days after the period's end covers the
// visits that went on past it (a visitor's hash changes every day).
func useBitmap(n int, hi, periodEnd, now int64) bool {
	return n >= bitmapMinIDs && (hi != 0 || now-periodEnd < bitmapOpenEndAge)
}

// bitmapOpenEndAge is how long after a period's end an unbounded read may
// still use a bitmap; tests of past fixtures raise it.
var bitmapOpenEndAge int64 = 2 * 86400

// loadCoveredPart reads the visits of ids whose last event is in [lo, hi)
// (hi 0: no upper bound).
func loadCoveredPart(ctx context.Context, d *db.DB, q *Query, ids []int64, lo, hi int64) ([]scanSess, error) {
	b := &sqlb{pg: true}
	where := []string{"s.site_id = " + b.arg(q.Site.ID)}
	bitmap := useBitmap(len(ids), hi, q.Range.To(), time.Now().Unix())
	if bitmap {
		bm, mask := idBitmap(ids)
		where = append(where, "get_bit("+b.arg(bm)+"::bytea, (s.session_id & "+b.arg(mask)+")::int) = 1")
	} else {
		where = append(where, "s.session_id = ANY("+b.arg(pgdialect.Array(ids))+")")
	}
	where = append(where, "s.last_seen >= "+b.arg(lo), "s.started_at < "+b.arg(q.Range.To()))
	if hi != 0 {
		where = append(where, "s.last_seen < "+b.arg(hi))
	}
	where = append(where, b.sessionFilterConds(q)...)
	strs := interner{}
	out := make([]scanSess, 0, len(ids))
	err := eachTextRow(ctx, d, "SELECT "+scanCoveredCols+" FROM sessions s WHERE "+strings.Join(where, " AND "), b.args, func(v [][]byte) error {
		if len(v) != 10 {
			return fmt.Errorf("visit row has %d columns, want 10", len(v))
		}
		var n [4]int64
		for i := range n {
			x, err := parseInt(v[i])
			if err != nil {
				return err
			}
			n[i] = x
		}
		if bitmap {
			if _, ok := slices.BinarySearch(ids, n[0]); !ok {
				return nil // another visit on the same bit
			}
		}
		out = append(out, scanSess{
			id: n[0], startedAt: n[1], pageviews: n[2], duration: n[3],
			bounce:    len(v[4]) == 1 && v[4][0] == 't',
			entryPage: strs.get(v[5]), source: strs.get(v[6]), country: strs.get(v[7]), browser: strs.get(v[8]), device: strs.get(v[9]),
		})
		return nil
	})
	return out, err
}

// loadVisits reads the complete visits of ids (sorted) in chunks. On PostgreSQL the
// chunks are split between two connections: the lookups are PostgreSQL's
// work and the decoding is ours, and with both on one connection each side
// waited for the other.
func loadVisits(ctx context.Context, d *db.DB, q *Query, ids []int64) ([][]db.Session, error) {
	const chunk = 5000
	var chunks [][]int64
	for lo := 0; lo < len(ids); lo += chunk {
		chunks = append(chunks, ids[lo:min(lo+chunk, len(ids))])
	}
	out := make([][]db.Session, len(chunks))
	workers := 1
	if d.IsPostgres() && len(chunks) > 1 {
		workers = 2
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			strs := interner{} // one per goroutine: interner is not safe for concurrent use
			for c := w; c < len(chunks); c += workers {
				if out[c], errs[w] = loadVisitChunk(ctx, d, q, chunks[c], strs); errs[w] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// loadVisitChunk reads the visits of some ids, with the bounds of the SQL
// path's join (implied by the events being in the range) and the visit
// filters.
func loadVisitChunk(ctx context.Context, d *db.DB, q *Query, ids []int64, strs interner) ([]db.Session, error) {
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
	query := "SELECT " + scanSessionCols + " FROM sessions s WHERE " + strings.Join(where, " AND ")
	// one allocation for the chunk's visits rather than one per visit
	out := make([]db.Session, 0, len(ids))
	if !b.pg {
		err := eachRow(ctx, d, query, b.args, func(rows *sql.Rows) error {
			s := db.Session{SiteID: q.Site.ID}
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
	err := eachTextRow(ctx, d, query, b.args, func(v [][]byte) error {
		if len(v) != 26 {
			return fmt.Errorf("visit row has %d columns, want 26", len(v))
		}
		var n [6]int64
		for i, col := range [6]int{0, 1, 2, 22, 23, 24} {
			x, err := parseInt(v[col])
			if err != nil {
				return err
			}
			n[i] = x
		}
		out = append(out, db.Session{
			SiteID: q.Site.ID, SessionID: n[0], StartedAt: n[1], LastSeen: n[2],
			EntryPage: strs.get(v[3]), ExitPage: strs.get(v[4]), Hostname: strs.get(v[5]), Referrer: strs.get(v[6]),
			Source: strs.get(v[7]), Channel: strs.get(v[8]), UTMSource: strs.get(v[9]), UTMMedium: strs.get(v[10]),
			UTMCampaign: strs.get(v[11]), UTMTerm: strs.get(v[12]), UTMContent: strs.get(v[13]),
			Country: strs.get(v[14]), Region: strs.get(v[15]), City: strs.get(v[16]),
			Browser: strs.get(v[17]), BrowserVersion: strs.get(v[18]), OS: strs.get(v[19]), OSVersion: strs.get(v[20]), Device: strs.get(v[21]),
			Pageviews: int(n[3]), Events: int(n[4]), Duration: int(n[5]),
			IsBounce: len(v[25]) == 1 && v[25][0] == 't',
		})
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

func (a *acc) addVisit(s *scanSess) {
	a.visits++
	if s.bounce {
		a.bounces++
	}
	a.duration += s.duration
	a.sessPV += s.pageviews
}

// eventMetrics is rawEvents over the shared scan.
func (sc *scan) eventMetrics(q *Query, g grouping, w Want, out accs) {
	if g.dim.IsSession() {
		// one group per visit: look it up once for all its events
		value := sc.visitValue(g.dim)
		for _, v := range sc.visits {
			a := out.get(value(v.s))
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
			if visitFiltered && !e.visited {
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
		if visitFiltered && !e.visited {
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
	var value func(*scanSess) string
	if g.dim.IsSession() {
		value = sc.visitValue(g.dim)
	}
	for _, v := range sc.visits {
		s := v.s
		if s.startedAt < from || s.startedAt >= to {
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
			if b, ok := bucketOf(g.buckets, s.startedAt); ok {
				out.get(bucketKey(b)).addVisit(s)
			}
		case g.dim != "":
			out.get(value(s)).addVisit(s)
		default:
			out.get("").addVisit(s)
		}
	}
}
