package costs

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/db"
)

// onlyFiltersOn reports whether every filter of q is on dim (and, for TAG,
// on tagKey): such a breakdown can be answered from dim's own rollup.
func onlyFiltersOn(q Query, dim Dimension, tagKey string) bool {
	for _, f := range q.Filters {
		if f.Dimension != dim || (dim == DimTag && f.TagKey != tagKey) {
			return false
		}
	}
	return true
}

// keepValue applies filters on the grouped dimension to one group's value.
func keepValue(fs []Filter, v string) bool {
	for _, f := range fs {
		if len(f.Values) == 0 {
			continue
		}
		if slices.Contains(f.Values, v) == f.Exclude {
			return false
		}
	}
	return true
}

// sumPart is one SELECT of key columns followed by billed, effective and
// list cost and a row count; neg subtracts it.
type sumPart struct {
	sel  string
	args []any
	neg  bool
}

// keyedSum is the sums of one group; keys end with the currency.
type keyedSum struct {
	keys []string
	Amounts
	n int64
}

// sumParts adds up parts per key (nkeys columns, the last the currency)
// and drops groups left without rows. With rank > 0, on PostgreSQL, only
// the first rank groups in breakdown order are returned, and the parts
// must then hold a single currency (a resource breakdown has a hundred
// thousand groups: sorting them all cost more than summing them).
func sumParts(ctx context.Context, d *db.DB, nkeys int, parts []sumPart, rank int) ([]keyedSum, error) {
	if d.IsPostgres() {
		return sumPartsPG(ctx, d, nkeys, parts, rank)
	}
	idx := map[string]*keyedSum{}
	var order []string
	row := newSumRow(nkeys)
	for _, p := range parts {
		if err := func() error {
			rows, err := d.QueryContext(ctx, p.sel, p.args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if err := row.scan(rows); err != nil {
					return err
				}
				v, n := row.amt, row.n
				if p.neg {
					v, n = [3]decimal.Decimal{v[0].Neg(), v[1].Neg(), v[2].Neg()}, -n
				}
				k := strings.Join(row.keys, "\x00")
				g := idx[k]
				if g == nil {
					g = &keyedSum{keys: slices.Clone(row.keys), Amounts: Amounts{Currency: row.keys[nkeys-1]}}
					idx[k] = g
					order = append(order, k)
				}
				g.add(v[0], v[1], v[2])
				g.n += n
			}
			return rows.Err()
		}(); err != nil {
			return nil, fmt.Errorf("cost query: %w", err)
		}
	}
	out := make([]keyedSum, 0, len(order))
	for _, k := range order {
		if g := idx[k]; g.n > 0 {
			out = append(out, *g)
		}
	}
	return out, nil
}

func sumPartsPG(ctx context.Context, d *db.DB, nkeys int, parts []sumPart, rank int) ([]keyedSum, error) {
	cols := make([]string, nkeys)
	for i := range cols {
		cols[i] = fmt.Sprintf("k%d", i)
	}
	aliased := strings.Join(cols, ", ") + ", b, e, l, n"
	var union []string
	var args []any
	for _, p := range parts {
		sel := "SELECT * FROM (" + p.sel + ") AS p (" + aliased + ")"
		if p.neg {
			sel = "SELECT " + strings.Join(cols, ", ") + ", -b AS b, -e AS e, -l AS l, -n AS n FROM (" + p.sel + ") AS p (" + aliased + ")"
		}
		union = append(union, sel)
		args = append(args, p.args...)
	}
	keys := strings.Join(cols, ", ")
	grouped := "SELECT " + keys + ", SUM(b) AS b, SUM(e) AS e, SUM(l) AS l, SUM(n) AS n FROM (" + strings.Join(union, " UNION ALL ") +
		") AS u GROUP BY " + keys + " HAVING SUM(n) > 0"
	if rank > 0 {
		// The order of Breakdown's sort: effective, then billed cost
		// descending, then the value in byte order. A LIMIT lets
		// PostgreSQL keep only the top rows while sorting.
		grouped += ` ORDER BY e DESC, b DESC, k0 COLLATE "C" LIMIT ?`
		args = append(args, rank)
	}
	// A month of resources is a hundred thousand groups: with the default
	// 4 MB of work memory the hash aggregate spilled to disk in 41
	// batches and took four times as long.
	return readSums(ctx, d, nkeys, []string{"SET LOCAL work_mem = '64MB'"},
		"SELECT "+keys+", b::text, e::text, l::text, n FROM ("+grouped+") AS s", args...)
}

// readSums runs query, whose rows are nkeys key columns (the last the
// currency) then billed, effective and list cost as text and a row count,
// in a read-only transaction after the given SET LOCAL statements.
func readSums(ctx context.Context, d *db.DB, nkeys int, settings []string, query string, args ...any) ([]keyedSum, error) {
	tx, err := d.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("cost query: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, set := range settings {
		if _, err := tx.ExecContext(ctx, set); err != nil {
			return nil, fmt.Errorf("cost query: %w", err)
		}
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cost query: %w", err)
	}
	defer rows.Close()
	var out []keyedSum
	row := newSumRow(nkeys)
	for rows.Next() {
		if err := row.scan(rows); err != nil {
			return nil, fmt.Errorf("cost query: %w", err)
		}
		g := keyedSum{keys: slices.Clone(row.keys), Amounts: Amounts{Currency: row.keys[nkeys-1]}, n: row.n}
		g.add(row.amt[0], row.amt[1], row.amt[2])
		out = append(out, g)
	}
	return out, rows.Err()
}

// currencyWhere adds q's currency condition.
func currencyWhere(q Query, where string, args []any) (string, []any) {
	if q.Currency == "" {
		return where, args
	}
	return where + " AND billing_currency = ?", append(args, strings.ToUpper(q.Currency))
}

// tagBreakdown answers a TAG breakdown from cost_tag_daily: the tagged
// values directly, and the spend without the tag as the days' total
// (cost_dim_daily) minus the tagged spend.
func tagBreakdown(ctx context.Context, d *db.DB, q Query, key string) ([]group, error) {
	from, to := q.From.Unix(), q.To.AddDate(0, 0, 1).Unix()
	tw, ta := currencyWhere(q, "tag_key = ? AND day >= ? AND day < ?", []any{key, from, to})
	dw, da := currencyWhere(q, "dim = ? AND day >= ? AND day < ?", []any{string(DimProvider), from, to})
	tagged, err := sumParts(ctx, d, 2, []sumPart{{sel: "SELECT tag_value, billing_currency, billed_cost, effective_cost, list_cost, row_count FROM cost_tag_daily WHERE " + tw, args: ta}}, 0)
	if err != nil {
		return nil, err
	}
	// Total minus tagged in one sum: the tagged rows enter it negated,
	// under the empty value.
	untagged, err := sumParts(ctx, d, 2, []sumPart{
		{sel: "SELECT '', billing_currency, billed_cost, effective_cost, list_cost, row_count FROM cost_dim_daily WHERE " + dw, args: da},
		{sel: "SELECT '', billing_currency, billed_cost, effective_cost, list_cost, row_count FROM cost_tag_daily WHERE " + tw, args: ta, neg: true},
	}, 0)
	if err != nil {
		return nil, err
	}
	var out []group
	for _, g := range append(tagged, untagged...) {
		if keepValue(q.Filters, g.keys[0]) {
			out = append(out, group{keys: g.keys[:1], Amounts: g.Amounts})
		}
	}
	return out, nil
}

// resourceBreakdown answers a RESOURCE breakdown from the monthly rollup
// (on PostgreSQL its per-month totals): months the range covers are read
// whole; a month it covers in part either adds the raw rows of the covered
// days or takes the month and subtracts the raw rows of the other days,
// whichever side holds fewer rows (the dimension rollup counts them), and a
// side without rows is not read at all. On PostgreSQL a ranked breakdown
// that is not one whole month is first tried on the resource index
// (resindex.go), which needs no raw rows.
func resourceBreakdown(ctx context.Context, d *db.DB, q Query, limit int) ([]group, error) {
	filter := func(q Query, where string, args []any) (string, []any) {
		where, args = currencyWhere(q, where, args)
		for _, f := range q.Filters {
			if len(f.Values) == 0 {
				continue
			}
			op := "IN"
			if f.Exclude {
				op = "NOT IN"
			}
			where += " AND resource_id " + op + " (?)"
			args = append(args, bun.In(f.Values))
		}
		return where, args
	}
	from, to := q.From.Unix(), q.To.AddDate(0, 0, 1).Unix()
	if !d.IsPostgres() || limit <= 0 {
		return resourceGroups(ctx, d, q, from, to, 0, filter)
	}
	// One ranked query per currency (the dimension rollup says which
	// currencies the range holds).
	curs := []string{strings.ToUpper(q.Currency)}
	if q.Currency == "" {
		curs = nil
		if err := d.NewSelect().Table("cost_dim_daily").ColumnExpr("DISTINCT billing_currency").
			Where("dim = ? AND day >= ? AND day < ?", string(DimProvider), from, to).Scan(ctx, &curs); err != nil {
			return nil, fmt.Errorf("cost query: currencies: %w", err)
		}
	}
	var out []group
	for _, cur := range curs {
		qc := q
		qc.Currency = cur
		gs, err := resourceGroups(ctx, d, qc, from, to, limit, filter)
		if err != nil {
			return nil, err
		}
		out = append(out, gs...)
	}
	return out, nil
}

func resourceGroups(ctx context.Context, d *db.DB, q Query, from, to int64, limit int, filter func(Query, string, []any) (string, []any)) ([]group, error) {
	zero := "0"
	monthly := "cost_resource_totals"
	if !d.IsPostgres() {
		zero, monthly = "'0'", "cost_resource_monthly"
	}
	raw := func(lo, hi int64, neg bool) sumPart {
		w, a := filter(q, "charge_period_start >= ? AND charge_period_start < ?", []any{lo, hi})
		return sumPart{sel: "SELECT resource_id, billing_currency, billed_cost, COALESCE(effective_cost, " + zero + "), COALESCE(list_cost, " + zero + "), 1 FROM cost_rows WHERE " + w, args: a, neg: neg}
	}
	first := monthStart(q.From)
	count, err := rowCounter(ctx, d, q, first.Unix(), monthStart(time.Unix(to-1, 0)).AddDate(0, 1, 0).Unix())
	if err != nil {
		return nil, err
	}
	var months []int64
	var parts []sumPart
	for m := first; m.Unix() < to; m = m.AddDate(0, 1, 0) {
		ms, me := m.Unix(), m.AddDate(0, 1, 0).Unix()
		lo, hi := max(from, ms), min(to, me)
		in, before, after := count(lo, hi), count(ms, lo), count(hi, me)
		switch {
		case in == 0:
			// Nothing billed in the range this month.
		case before+after == 0:
			// The days left out hold no rows (this month so far, for
			// example): the month is the answer.
			months = append(months, ms)
		case before+after < in:
			months = append(months, ms)
			if before > 0 {
				parts = append(parts, raw(ms, lo, true))
			}
			if after > 0 {
				parts = append(parts, raw(hi, me, true))
			}
		default:
			parts = append(parts, raw(lo, hi, false))
		}
	}
	if d.IsPostgres() && limit > 0 && len(parts) == 0 && q.Currency != "" && len(months) == 1 {
		return rankedMonth(ctx, d, q, months[0], limit, filter)
	}
	if d.IsPostgres() && limit > 0 && q.Currency != "" {
		gs, ok, err := indexedResourceTop(ctx, d, q.Currency, from, to, limit, q.Filters)
		if err != nil || ok {
			return gs, err
		}
		if len(parts) == 0 && len(months) > 1 && len(q.Filters) == 0 {
			gs, ok, err := rankedMonths(ctx, d, q, months, limit)
			if err != nil || ok {
				return gs, err
			}
		}
	}
	if len(months) > 0 {
		w, a := filter(q, "month IN (?)", []any{bun.In(months)})
		parts = append(parts, sumPart{sel: "SELECT resource_id, billing_currency, billed_cost, effective_cost, list_cost, row_count FROM " + monthly + " WHERE " + w, args: a})
	}
	if len(parts) == 0 {
		return nil, nil
	}
	gs, err := sumParts(ctx, d, 2, parts, limit)
	if err != nil {
		return nil, err
	}
	return resourceRows(gs), nil
}

// rowCounter returns a function counting the cost rows charged in [lo, hi)
// (UTC midnights within [from, to)), from the per-day row counts of the
// dimension rollup: it tells which side of a partly covered month has
// fewer raw rows to read, and which sides have none.
func rowCounter(ctx context.Context, d *db.DB, q Query, from, to int64) (func(lo, hi int64) int64, error) {
	var days []struct {
		Day int64 `bun:"day"`
		N   int64 `bun:"n"`
	}
	w, a := currencyWhere(q, "dim = ? AND day >= ? AND day < ?", []any{string(DimProvider), from, to})
	if err := d.NewSelect().Table("cost_dim_daily").ColumnExpr("day, SUM(row_count) AS n").Where(w, a...).
		GroupExpr("day").Scan(ctx, &days); err != nil {
		return nil, fmt.Errorf("cost query: rows per day: %w", err)
	}
	return func(lo, hi int64) int64 {
		var n int64
		for _, r := range days {
			if r.Day >= lo && r.Day < hi {
				n += r.N
			}
		}
		return n
	}, nil
}

// rankedMonth reads the top limit resources of one month and currency from
// the first entries of cost_resource_totals' index in breakdown order.
func rankedMonth(ctx context.Context, d *db.DB, q Query, month int64, limit int, filter func(Query, string, []any) (string, []any)) ([]group, error) {
	w, a := filter(q, "month = ?", []any{month})
	var settings []string
	if len(q.Filters) == 0 {
		// Until the table is analyzed (right after a big first import)
		// the planner takes a month for a few rows and sorts all of
		// them: 164 ms instead of 0.2 ms for the index's first entries.
		settings = append(settings, "SET LOCAL enable_sort = off")
	}
	// The amounts go out as text; the order is on the numbers (an output
	// column of the same name would win over the table's).
	gs, err := readSums(ctx, d, 2, settings, `SELECT resource_id, billing_currency, billed_cost::text AS b, effective_cost::text AS e, list_cost::text AS l, row_count
		FROM cost_resource_totals AS t WHERE `+w+` AND row_count > 0
		ORDER BY t.effective_cost DESC, t.billed_cost DESC, t.resource_id COLLATE "C" LIMIT ?`, append(a, limit)...)
	if err != nil {
		return nil, err
	}
	return resourceRows(gs), nil
}

// rankOrder is the order of a breakdown's groups: effective, then billed
// cost descending, then the value in byte order.
func rankOrder(a, b Amounts, va, vb string) int {
	if c := b.EffectiveCost.Cmp(a.EffectiveCost); c != 0 {
		return c
	}
	if c := b.BilledCost.Cmp(a.BilledCost); c != 0 {
		return c
	}
	return strings.Compare(va, vb)
}

// resourceRows drops the currency key of resource sums.
func resourceRows(gs []keyedSum) []group {
	out := make([]group, 0, len(gs))
	for _, g := range gs {
		out = append(out, group{keys: g.keys[:1], Amounts: g.Amounts})
	}
	return out
}

// firstRankDepth and maxRankDepth bound how many entries of each month
// rankedMonths reads. One read of 256 is the default: where a few resources
// carry most of the spend, as they usually do on cloud bills, it decides a
// top 10 (three months of 111,111 resources with Pareto-distributed spend:
// 20–24 ms instead of 930–950 ms for summing them all); where spend is
// spread evenly, no depth short of the whole month decides, and a single
// read wastes least. Tests lower the first depth to make several reads decide.
var firstRankDepth = 256

const maxRankDepth = 256

// rankedMonths finds the top limit resources of several whole months of one
// currency without summing every resource: it reads the first depth
// entries of each month in breakdown order, sums those candidates over all
// the months, and stops once the limit-th candidate's effective cost is
// above what any unread resource can reach (the threshold algorithm of
// Fagin, Lotem and Naor). An unread resource holds, in a month not read to
// its end, at most the last value read there or nothing at all, so it
// reaches at most the sum of max(last value, 0) over those months; negative
// totals (credits) are thus allowed. It reports false when the top stays
// undecided at the deepest read, and the caller sums every resource.
func rankedMonths(ctx context.Context, d *db.DB, q Query, months []int64, limit int) ([]group, bool, error) {
	cur := strings.ToUpper(q.Currency)
	for depth := max(2*limit, firstRankDepth); depth <= maxRankDepth; depth *= 4 {
		seen := map[string]bool{}
		bound := decimal.Zero
		open := 0 // months not read to their end
		for _, m := range months {
			var top []struct {
				ResourceID string `bun:"resource_id"`
				Effective  string `bun:"e"`
			}
			if err := d.NewRaw(`SELECT resource_id, effective_cost::text AS e FROM cost_resource_totals AS t
				WHERE month = ? AND billing_currency = ?
				ORDER BY t.effective_cost DESC, t.billed_cost DESC, t.resource_id COLLATE "C" LIMIT ?`, m, cur, depth).Scan(ctx, &top); err != nil {
				return nil, false, fmt.Errorf("cost query: top resources of a month: %w", err)
			}
			for _, r := range top {
				seen[r.ResourceID] = true
			}
			if len(top) == depth {
				open++
				last, err := decimal.NewFromString(top[len(top)-1].Effective)
				if err != nil {
					return nil, false, fmt.Errorf("cost query: amount %q: %w", top[len(top)-1].Effective, err)
				}
				bound = bound.Add(decimal.Max(last, decimal.Zero))
			}
		}
		if len(seen) == 0 {
			return nil, true, nil
		}
		ids := make([]string, 0, len(seen))
		for id := range seen {
			ids = append(ids, id)
		}
		gs, err := sumParts(ctx, d, 2, []sumPart{{
			sel:  "SELECT resource_id, billing_currency, billed_cost, effective_cost, list_cost, row_count FROM cost_resource_totals WHERE month IN (?) AND billing_currency = ? AND resource_id IN (?)",
			args: []any{bun.In(months), cur, bun.In(ids)},
		}}, 0)
		if err != nil {
			return nil, false, err
		}
		slices.SortFunc(gs, func(a, b keyedSum) int { return rankOrder(a.Amounts, b.Amounts, a.keys[0], b.keys[0]) })
		// Every month read to its end: the candidates are all resources.
		// Otherwise the limit-th must beat the bound strictly, since an
		// unread resource equal to it could rank above on billed cost.
		if open == 0 || len(gs) >= limit && gs[limit-1].EffectiveCost.GreaterThan(bound) {
			return resourceRows(gs[:min(limit, len(gs))]), true, nil
		}
	}
	return nil, false, nil
}
