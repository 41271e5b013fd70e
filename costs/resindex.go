package costs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tallyhq/tally/db"
)

// The resource index (PostgreSQL only, migration 000414) holds, for every
// month, currency and day, each resource's sums from the month's start to
// the end of that day, as vectors in one order per month. A resource
// breakdown over any days then needs two vectors per month it touches
// (about 5 MB for a month of 111,111 resources) and sums them in Go,
// instead of grouping raw rows or several months of totals in SQL.
//
// The index is derived data, rebuilt by RefreshResourceIndex outside the
// imports; a month whose index is missing or older than its rollup is
// answered from the rollups as before, so answers never depend on it.

// More fixed12 arithmetic, for the index's sums.

func (f fixed12) minus(x fixed12) (fixed12, bool) { return f.plus(x.neg()) }

func (f fixed12) cmp(x fixed12) int {
	if f.hi != x.hi {
		if f.hi < x.hi {
			return -1
		}
		return 1
	}
	if f.lo != x.lo {
		if f.lo < x.lo {
			return -1
		}
		return 1
	}
	return 0
}

func (f fixed12) put(b []byte) {
	binary.LittleEndian.PutUint64(b, f.lo)
	binary.LittleEndian.PutUint64(b[8:], uint64(f.hi))
}

// fixedAt reads the i-th value of a vector; past its end the value is 0.
func fixedAt(v []byte, i int) fixed12 {
	if (i+1)*16 > len(v) {
		return fixed12{}
	}
	b := v[i*16:]
	return fixed12{lo: binary.LittleEndian.Uint64(b), hi: int64(binary.LittleEndian.Uint64(b[8:]))}
}

func countAt(v []byte, i int) int64 {
	if (i+1)*4 > len(v) {
		return 0
	}
	return int64(binary.LittleEndian.Uint32(v[i*4:]))
}

// RefreshResourceIndex rebuilds the resource index of every month and
// currency whose resource rollup changed since its index was built, and
// returns how many it rebuilt. Concurrent callers (several servers, a CLI
// import) skip the work one of them is doing. A no-op on SQLite.
func RefreshResourceIndex(ctx context.Context, d *db.DB) (int, error) {
	if !d.IsPostgres() {
		return 0, nil
	}
	conn, err := d.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("resource index: %w", err)
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(hashtext('tally-costs/resource-index'))").Scan(&got); err != nil {
		return 0, fmt.Errorf("resource index: lock: %w", err)
	}
	if !got {
		return 0, nil
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext('tally-costs/resource-index'))")
	}()
	var stale []struct {
		Month    int64  `bun:"month"`
		Currency string `bun:"billing_currency"`
	}
	if err := d.NewRaw(`SELECT v.month, v.billing_currency FROM cost_resource_versions AS v
		LEFT JOIN cost_resource_index AS i USING (month, billing_currency)
		WHERE i.version IS DISTINCT FROM v.version ORDER BY 1, 2`).Scan(ctx, &stale); err != nil {
		return 0, fmt.Errorf("resource index: stale months: %w", err)
	}
	n := 0
	for _, s := range stale {
		err := buildResourceIndex(ctx, d, s.Month, s.Currency)
		var re *rangeError
		if errors.As(err, &re) {
			// Such a month stays on the rollups; recording that keeps
			// the next refresh from reading it again.
			err = d.WithPgx(ctx, func(c *pgx.Conn) error {
				return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
					if _, err := tx.Exec(ctx, "DELETE FROM cost_resource_index_days WHERE month = $1 AND billing_currency = $2", s.Month, s.Currency); err != nil {
						return err
					}
					return writeIndexKeys(ctx, tx, s.Month, s.Currency, re.version, nil, 0, false)
				})
			})
		}
		if err != nil {
			return n, fmt.Errorf("resource index of %s %s: %w", time.Unix(s.Month, 0).UTC().Format("2006-01"), s.Currency, err)
		}
		n++
	}
	return n, nil
}

// rangeError says that a month's sums do not fit the index's 128 bits (or
// a resource has more than 2^32 rows in a month).
type rangeError struct{ version int64 }

func (e *rangeError) Error() string { return "a sum does not fit the resource index" }

// resourceSums is one resource's running sums within a month.
type resourceSums struct {
	n                       int64
	billed, effective, list fixed12
}

// buildResourceIndex reads the raw rows of one month and currency in time
// order, in one snapshot with the month's version, and writes the index
// with that version: if rows change meanwhile, the version moves on and the
// index stays unused until the next refresh.
func buildResourceIndex(ctx context.Context, d *db.DB, month int64, cur string) error {
	ms := time.Unix(month, 0).UTC()
	// The days are written while the rows are read, on a second
	// connection, so that only one day's vectors are in memory (a month of
	// 111,111 resources is 180 MB of them).
	return d.WithPgx(ctx, func(w *pgx.Conn) error {
		return pgx.BeginFunc(ctx, w, func(wtx pgx.Tx) error {
			if _, err := wtx.Exec(ctx, "DELETE FROM cost_resource_index_days WHERE month = $1 AND billing_currency = $2", month, cur); err != nil {
				return err
			}
			var v indexDay
			writeDay := func(day int, sums []resourceSums) error {
				v.encode(sums)
				_, err := wtx.Exec(ctx, `INSERT INTO cost_resource_index_days (month, billing_currency, day, row_counts, billed, effective, list)
					VALUES ($1, $2, $3, $4, $5, $6, $7)`, month, cur, day+1, v.counts, v.billed, v.effective, v.list)
				return err
			}
			var version int64
			var ids []string
			day := 0 // the day whose rows are being read, 0-based; at the end, the days written
			err := d.WithPgx(ctx, func(r *pgx.Conn) error {
				rtx, err := r.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
				if err != nil {
					return err
				}
				defer func() { _ = rtx.Rollback(context.WithoutCancel(ctx)) }()
				if err := rtx.QueryRow(ctx, "SELECT version FROM cost_resource_versions WHERE month = $1 AND billing_currency = $2", month, cur).Scan(&version); err != nil {
					return fmt.Errorf("version: %w", err)
				}
				rows, err := rtx.Query(ctx, `SELECT resource_id, charge_period_start, billed_cost::text, COALESCE(effective_cost, 0)::text, COALESCE(list_cost, 0)::text
					FROM cost_rows WHERE billing_currency = $1 AND charge_period_start >= $2 AND charge_period_start < $3 ORDER BY charge_period_start`,
					cur, month, ms.AddDate(0, 1, 0).Unix())
				if err != nil {
					return fmt.Errorf("read rows: %w", err)
				}
				defer rows.Close()
				pos := map[string]int{}
				var sums []resourceSums
				var (
					res, b, e, l string
					start        int64
				)
				for rows.Next() {
					if err := rows.Scan(&res, &start, &b, &e, &l); err != nil {
						return fmt.Errorf("read rows: %w", err)
					}
					for dd := int((start - month) / 86400); day < dd; day++ {
						if err := writeDay(day, sums); err != nil {
							return err
						}
					}
					i, ok := pos[res]
					if !ok {
						i = len(ids)
						pos[res] = i
						ids = append(ids, res)
						sums = append(sums, resourceSums{})
					}
					if !sums[i].add(b, e, l) {
						return &rangeError{version}
					}
				}
				if err := rows.Err(); err != nil {
					return fmt.Errorf("read rows: %w", err)
				}
				if len(ids) > 0 {
					// The last day with rows; later days would repeat it.
					if err := writeDay(day, sums); err != nil {
						return err
					}
					day++
				}
				return nil
			})
			if err != nil {
				return err
			}
			return writeIndexKeys(ctx, wtx, month, cur, version, ids, day, true)
		})
	})
}

// add sums one raw row (amounts as PostgreSQL prints NUMERIC) into s;
// false when a sum leaves the index's range.
func (s *resourceSums) add(b, e, l string) bool {
	for _, a := range [...]struct {
		text string
		sum  *fixed12
	}{{b, &s.billed}, {e, &s.effective}, {l, &s.list}} {
		f, ok := parseFixed12(a.text)
		if ok {
			*a.sum, ok = a.sum.plus(f)
		}
		if !ok {
			return false
		}
	}
	s.n++
	return s.n <= 1<<32-1
}

// parseFixed12 reads a plain decimal (an optional minus, digits, at most 12
// after a point) exactly; false for anything else or a value past 127 bits.
func parseFixed12(s string) (fixed12, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 12 {
		return fixed12{}, false
	}
	var hi, lo uint64
	digits := 0
	for _, part := range [...]string{whole, frac + "000000000000"[:12-len(frac)]} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return fixed12{}, false
			}
			// (hi, lo) = (hi, lo) * 10 + c
			h1, l1 := bits.Mul64(lo, 10)
			h2 := hi * 10
			if hi>>60 != 0 {
				return fixed12{}, false
			}
			var carry uint64
			lo, carry = bits.Add64(l1, uint64(c-'0'), 0)
			hi = h2 + h1 + carry
			if hi>>63 != 0 {
				return fixed12{}, false
			}
			digits++
		}
	}
	f := fixed12{int64(hi), lo}
	if neg {
		f = f.neg()
	}
	return f, digits > 0
}

// indexDay is one day's vectors.
type indexDay struct{ counts, billed, effective, list []byte }

// encode sets v to the running sums at the end of a day, reusing v's
// memory: a month of 111,111 resources is 5.8 MB a day. A day without rows
// repeats the day before, so that a range's end is always one row.
func (v *indexDay) encode(sums []resourceSums) {
	grow := func(b []byte, n int) []byte {
		if b == nil || cap(b) < n { // nil would be NULL, and a day before any row is empty
			return make([]byte, n, n+n/4)
		}
		return b[:n]
	}
	v.counts, v.billed = grow(v.counts, 4*len(sums)), grow(v.billed, 16*len(sums))
	v.effective, v.list = grow(v.effective, 16*len(sums)), grow(v.list, 16*len(sums))
	for i, s := range sums {
		binary.LittleEndian.PutUint32(v.counts[4*i:], uint32(s.n))
		s.billed.put(v.billed[16*i:])
		s.effective.put(v.effective[16*i:])
		s.list.put(v.list[16*i:])
	}
}

// writeIndexKeys gives the month's resources their ids and records the
// index with the version it was built from.
func writeIndexKeys(ctx context.Context, tx pgx.Tx, month int64, cur string, version int64, ids []string, days int, usable bool) error {
	keys := make([]byte, 8*len(ids))
	if len(ids) > 0 {
		if _, err := tx.Exec(ctx, "INSERT INTO cost_resource_keys (resource_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", ids); err != nil {
			return fmt.Errorf("resource ids: %w", err)
		}
		rows, err := tx.Query(ctx, "SELECT id, resource_id FROM cost_resource_keys WHERE resource_id = ANY($1::text[])", ids)
		if err != nil {
			return fmt.Errorf("resource ids: %w", err)
		}
		byID := make(map[string]int64, len(ids))
		var id int64
		var rid string
		if _, err := pgx.ForEachRow(rows, []any{&id, &rid}, func() error { byID[rid] = id; return nil }); err != nil {
			return fmt.Errorf("resource ids: %w", err)
		}
		for i, r := range ids {
			k, ok := byID[r]
			if !ok {
				return fmt.Errorf("resource %q has no id", r)
			}
			binary.LittleEndian.PutUint64(keys[8*i:], uint64(k))
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO cost_resource_index (month, billing_currency, version, days, usable, ids) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (month, billing_currency) DO UPDATE SET version = EXCLUDED.version, days = EXCLUDED.days, usable = EXCLUDED.usable, ids = EXCLUDED.ids`,
		month, cur, version, days, usable, keys)
	return err
}

// indexedResourceTop answers a ranked resource breakdown of one currency
// over [from, to), with filters on the resource, from the resource index;
// ok is false when a month the range touches has no current index (or a
// sum leaves 128 bits), and the caller then uses the rollups.
func indexedResourceTop(ctx context.Context, d *db.DB, cur string, from, to int64, limit int, filters []Filter) (out []group, ok bool, err error) {
	err = d.WithPgx(ctx, func(c *pgx.Conn) error {
		// One snapshot for the versions and the vectors.
		tx, err := c.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		out, ok, err = indexedTop(ctx, tx, cur, from, to, limit, filters)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("cost query: resource index: %w", err)
	}
	if ok {
		indexAnswers.Add(1)
	}
	return out, ok, nil
}

// indexAnswers counts the breakdowns the index answered, for the tests
// that must know the index was used rather than the rollups.
var indexAnswers atomic.Int64

// monthIndex is what a range reads of one month's index.
type monthIndex struct {
	month      int64
	lo, hi     int    // the days [lo, hi) covered, 0-based; the vectors read are lo's and hi's (day 0: none)
	ids        []byte // int64 ids, in the vectors' order
	begin, end indexDay
}

func (m *monthIndex) id(i int) int64 { return int64(binary.LittleEndian.Uint64(m.ids[8*i:])) }

func indexedTop(ctx context.Context, tx pgx.Tx, cur string, from, to int64, limit int, filters []Filter) ([]group, bool, error) {
	keep, err := resourceFilter(ctx, tx, filters)
	if err != nil {
		return nil, false, err
	}
	var months []*monthIndex
	for m := monthStart(time.Unix(from, 0)); m.Unix() < to; m = m.AddDate(0, 1, 0) {
		ms, me := m.Unix(), m.AddDate(0, 1, 0).Unix()
		lo, hi := max(from, ms), min(to, me)
		months = append(months, &monthIndex{month: ms, lo: int((lo - ms) / 86400), hi: int((hi - ms) / 86400)})
	}
	byMonth := map[int64]*monthIndex{}
	var ms []int64
	for _, m := range months {
		byMonth[m.month] = m
		ms = append(ms, m.month)
	}
	rows, err := tx.Query(ctx, `SELECT v.month, COALESCE(i.version = v.version AND i.usable, false), COALESCE(i.days, 0), COALESCE(i.ids, ''::bytea)
		FROM cost_resource_versions AS v LEFT JOIN cost_resource_index AS i USING (month, billing_currency)
		WHERE v.billing_currency = $1 AND v.month = ANY($2)`, cur, ms)
	if err != nil {
		return nil, false, err
	}
	var month int64
	var fresh bool
	var days int
	var ids []byte
	stale := false
	indexed := map[int64]bool{}
	if _, err := pgx.ForEachRow(rows, []any{&month, &fresh, &days, &ids}, func() error {
		stale = stale || !fresh
		m := byMonth[month]
		m.ids, indexed[month] = slices.Clone(ids), true
		// Past the last day with rows nothing changes.
		m.lo, m.hi = min(m.lo, days), min(m.hi, days)
		return nil
	}); err != nil {
		return nil, false, err
	}
	if stale {
		return nil, false, nil
	}
	// A month without a version holds no resources of this currency, and
	// one whose rows all lie before the range adds nothing.
	months = slices.DeleteFunc(months, func(m *monthIndex) bool { return !indexed[m.month] || m.lo >= m.hi })
	var wantMonth, wantDay []int64
	for _, m := range months {
		for _, dd := range []int{m.lo, m.hi} {
			if dd > 0 {
				wantMonth, wantDay = append(wantMonth, m.month), append(wantDay, int64(dd))
			}
		}
	}
	if len(wantMonth) == 0 {
		return nil, true, nil
	}
	rows, err = tx.Query(ctx, `SELECT d.month, d.day, d.row_counts, d.effective FROM cost_resource_index_days AS d
		JOIN unnest($2::bigint[], $3::bigint[]) AS w (month, day) ON d.month = w.month AND d.day = w.day
		WHERE d.billing_currency = $1`, cur, wantMonth, wantDay)
	if err != nil {
		return nil, false, err
	}
	var day int
	var counts, eff []byte
	got := 0
	if _, err := pgx.ForEachRow(rows, []any{&month, &day, &counts, &eff}, func() error {
		m := byMonth[month]
		v := indexDay{counts: slices.Clone(counts), effective: slices.Clone(eff)}
		if day == m.lo {
			m.begin = v
		}
		if day == m.hi {
			m.end = v
		}
		got++
		return nil
	}); err != nil {
		return nil, false, err
	}
	if got != len(wantMonth) {
		return nil, false, nil // a day is missing: leave the range to the rollups
	}
	// Each resource's range is the vector at its end minus the one at its
	// start, month by month.
	type acc struct {
		id        int64
		effective fixed12
	}
	var all []acc
	at := map[int64]int{} // id -> index in all
	for _, m := range months {
		for i := 0; i < len(m.ids)/8; i++ {
			if countAt(m.end.counts, i) == countAt(m.begin.counts, i) {
				continue // no rows in the range
			}
			id := m.id(i)
			if !keep(id) {
				continue
			}
			e, ok := fixedAt(m.end.effective, i).minus(fixedAt(m.begin.effective, i))
			if !ok {
				return nil, false, nil
			}
			j, seen := at[id]
			if !seen {
				at[id] = len(all)
				all = append(all, acc{id: id, effective: e})
				continue
			}
			if all[j].effective, ok = all[j].effective.plus(e); !ok {
				return nil, false, nil
			}
		}
	}
	// The top by effective cost, with every resource tied with the last
	// one: billed cost and then the name break those ties.
	slices.SortFunc(all, func(a, b acc) int { return b.effective.cmp(a.effective) })
	n := min(limit, len(all))
	for n > 0 && n < len(all) && all[n].effective.cmp(all[n-1].effective) == 0 {
		n++
	}
	if n > 4*limit+1000 {
		// A tie over thousands of resources (all at zero, say): SQL sorts
		// that on the rollups.
		return nil, false, nil
	}
	top := all[:n]
	if len(top) == 0 {
		return nil, true, nil
	}
	// Billed and list cost of the top only, read as slices of the vectors.
	inTop := map[int64]int{}
	topIDs := make([]int64, len(top))
	for i, a := range top {
		inTop[a.id], topIDs[i] = i, a.id
	}
	var qm, qd, qp, qi []int64 // month, day, position, index in top
	for _, m := range months {
		for i := 0; i < len(m.ids)/8; i++ {
			t, ok := inTop[m.id(i)]
			if !ok {
				continue
			}
			for _, dd := range []int{m.lo, m.hi} {
				if dd > 0 {
					qm, qd, qp, qi = append(qm, m.month), append(qd, int64(dd)), append(qp, int64(i)), append(qi, int64(t))
				}
			}
		}
	}
	billed := make([]fixed12, len(top))
	list := make([]fixed12, len(top))
	rows, err = tx.Query(ctx, `SELECT w.month, w.day, w.t, substring(d.billed FROM (w.pos * 16 + 1)::int FOR 16), substring(d.list FROM (w.pos * 16 + 1)::int FOR 16)
		FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS w (month, day, pos, t)
		JOIN cost_resource_index_days AS d ON d.month = w.month AND d.day = w.day
		WHERE d.billing_currency = $1`, cur, qm, qd, qp, qi)
	if err != nil {
		return nil, false, err
	}
	var t int
	var b, l []byte
	overflow := false
	if _, err := pgx.ForEachRow(rows, []any{&month, &day, &t, &b, &l}, func() error {
		sign := 1
		if day == byMonth[month].lo {
			sign = -1 // the sums before the range
		}
		fb, fl := fixedAt(b, 0), fixedAt(l, 0)
		if sign < 0 {
			fb, fl = fb.neg(), fl.neg()
		}
		var ok1, ok2 bool
		billed[t], ok1 = billed[t].plus(fb)
		list[t], ok2 = list[t].plus(fl)
		overflow = overflow || !ok1 || !ok2
		return nil
	}); err != nil {
		return nil, false, err
	}
	if overflow {
		return nil, false, nil
	}
	rows, err = tx.Query(ctx, "SELECT id, resource_id FROM cost_resource_keys WHERE id = ANY($1)", topIDs)
	if err != nil {
		return nil, false, err
	}
	name := map[int64]string{}
	var id int64
	var rid string
	if _, err := pgx.ForEachRow(rows, []any{&id, &rid}, func() error { name[id] = rid; return nil }); err != nil {
		return nil, false, err
	}
	out := make([]group, len(top))
	for i, a := range top {
		out[i] = group{keys: []string{name[a.id]}, Amounts: Amounts{Currency: cur,
			BilledCost: billed[i].decimal(), EffectiveCost: a.effective.decimal(), ListCost: list[i].decimal()}}
	}
	slices.SortFunc(out, func(a, b group) int { return rankOrder(a.Amounts, b.Amounts, a.keys[0], b.keys[0]) })
	return out[:min(limit, len(out))], true, nil
}

// resourceFilter turns filters on the resource into a test on index ids,
// with keepValue's meaning: every filter with values must hold.
func resourceFilter(ctx context.Context, tx pgx.Tx, filters []Filter) (func(int64) bool, error) {
	var sets []map[int64]bool
	var exclude []bool
	for _, f := range filters {
		if len(f.Values) == 0 {
			continue
		}
		rows, err := tx.Query(ctx, "SELECT id FROM cost_resource_keys WHERE resource_id = ANY($1::text[])", f.Values)
		if err != nil {
			return nil, err
		}
		set := map[int64]bool{}
		var id int64
		if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { set[id] = true; return nil }); err != nil {
			return nil, err
		}
		sets, exclude = append(sets, set), append(exclude, f.Exclude)
	}
	return func(id int64) bool {
		for i, set := range sets {
			if set[id] == exclude[i] {
				return false
			}
		}
		return true
	}, nil
}
