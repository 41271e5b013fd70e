package costs

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/db"
)

// Tags and resources are the two breakdowns cost_daily cannot answer: a
// month of ten million rows holds millions of rows to read for them. The
// importer therefore keeps two more rollups, keyed like cost_daily by
// import and export so that a replaced import takes its share with it:
// cost_tag_daily (day × tag key × value) and cost_resource_monthly
// (calendar month × resource; a resource is billed every hour or day, and
// a per-day rollup would be as large as the raw rows).

func init() {
	db.RegisterDataMigration("000411_cost_key_rollups_backfill", RebuildKeyRollups)
}

// keyRollupCols are the identity columns both rollups share with cost_rows.
const keyRollupCols = "source_id, import_id, billing_period_start, provider_name, billing_account_id"

// tagRollupSelect reads the non-empty tag values of the cost_rows matching
// where, with the JSON functions the raw TAG path uses, so that both paths
// see the same value for the same row.
func tagRollupSelect(pg bool, where string) string {
	if pg {
		return `SELECT r.source_id, r.import_id, r.billing_period_start, r.provider_name, r.billing_account_id,
			r.charge_period_start - r.charge_period_start % 86400, t.key, t.value, r.billing_currency,
			SUM(r.billed_cost), COALESCE(SUM(r.effective_cost), 0), COALESCE(SUM(r.list_cost), 0), COUNT(*)
		FROM cost_rows r CROSS JOIN LATERAL jsonb_each_text(r.tags) t
		WHERE ` + where + ` AND r.tags <> '{}'::jsonb AND t.value <> ''
		GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`
	}
	return `SELECT r.source_id, r.import_id, r.billing_period_start, r.provider_name, r.billing_account_id,
			r.charge_period_start - r.charge_period_start % 86400, t.key, CAST(t.value AS TEXT), r.billing_currency,
			r.billed_cost, COALESCE(r.effective_cost, '0'), COALESCE(r.list_cost, '0'), 1
		FROM cost_rows r, json_each(r.tags) t
		WHERE ` + where + ` AND r.tags <> '{}' AND t.value IS NOT NULL AND CAST(t.value AS TEXT) <> ''`
}

const tagRollupInsert = "cost_tag_daily (" + keyRollupCols + ", day, tag_key, tag_value, billing_currency, billed_cost, effective_cost, list_cost, row_count)"

// resourceRollupSelect reads the cost_rows matching where per calendar
// month (UTC) and resource.
func resourceRollupSelect(pg bool, where string) string {
	if pg {
		return `SELECT source_id, import_id, billing_period_start, provider_name, billing_account_id,
			EXTRACT(EPOCH FROM date_trunc('month', to_timestamp(charge_period_start) AT TIME ZONE 'UTC'))::bigint, resource_id, billing_currency,
			SUM(billed_cost), COALESCE(SUM(effective_cost), 0), COALESCE(SUM(list_cost), 0), COUNT(*)
		FROM cost_rows WHERE ` + where + `
		GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`
	}
	return `SELECT source_id, import_id, billing_period_start, provider_name, billing_account_id,
			CAST(strftime('%s', charge_period_start, 'unixepoch', 'start of month') AS INTEGER), resource_id, billing_currency,
			billed_cost, COALESCE(effective_cost, '0'), COALESCE(list_cost, '0'), 1
		FROM cost_rows WHERE ` + where
}

const resourceRollupInsert = "cost_resource_monthly (" + keyRollupCols + ", month, resource_id, billing_currency, billed_cost, effective_cost, list_cost, row_count)"

// fillKeyRollups adds the tag and resource rollups of the cost_rows matching
// where (an import, or every row).
func fillKeyRollups(ctx context.Context, tx bun.IDB, pg bool, where string, args ...any) error {
	if err := rollupInto(ctx, tx, pg, tagRollupInsert, tagRollupSelect(pg, where), 9, args...); err != nil {
		return fmt.Errorf("write tag rollup: %w", err)
	}
	if err := rollupInto(ctx, tx, pg, resourceRollupInsert, resourceRollupSelect(pg, where), 8, args...); err != nil {
		return fmt.Errorf("write resource rollup: %w", err)
	}
	return nil
}

// rollupInto writes the rows of sel (nkeys key columns, then billed,
// effective and list cost and a row count) into target, summed per key.
// PostgreSQL sums NUMERIC in SQL; SQLite's TEXT amounts are summed exactly
// here, over rows sorted by key so that memory holds one key at a time.
func rollupInto(ctx context.Context, tx bun.IDB, pg bool, target, sel string, nkeys int, args ...any) error {
	if pg {
		_, err := tx.ExecContext(ctx, "INSERT INTO "+target+" "+sel, args...)
		return err
	}
	order := make([]string, nkeys)
	for i := range order {
		order[i] = fmt.Sprint(i + 1)
	}
	rows, err := tx.QueryContext(ctx, sel+" ORDER BY "+strings.Join(order, ", "), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	row := newSumRow(nkeys)
	out := rowBatch{ctx: ctx, tx: tx, target: target}
	var cur []any // key of the rows being summed
	var sum [3]decimal.Decimal
	var cnt int64
	emit := func() error {
		if cur == nil {
			return nil
		}
		return out.add(append(cur, sum[0].String(), sum[1].String(), sum[2].String(), cnt)...)
	}
	for rows.Next() {
		if err := row.scan(rows); err != nil {
			return err
		}
		same := cur != nil
		for i := 0; same && i < nkeys; i++ {
			same = cur[i].(string) == row.keys[i]
		}
		if !same {
			if err := emit(); err != nil {
				return err
			}
			cur = make([]any, nkeys, nkeys+4)
			for i, k := range row.keys {
				cur[i] = k
			}
			sum, cnt = [3]decimal.Decimal{}, 0
		}
		for i := range sum {
			sum[i] = sum[i].Add(row.amt[i])
		}
		cnt += row.n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := emit(); err != nil {
		return err
	}
	return out.flush()
}

// sumRow scans the shape every rollup query here returns: nkeys key
// columns, then billed, effective and list cost and a row count.
type sumRow struct {
	keys []string
	amt  [3]decimal.Decimal
	n    int64
	text [3]string
	dest []any
}

func newSumRow(nkeys int) *sumRow {
	s := &sumRow{keys: make([]string, nkeys)}
	for i := range s.keys {
		s.dest = append(s.dest, &s.keys[i])
	}
	s.dest = append(s.dest, &s.text[0], &s.text[1], &s.text[2], &s.n)
	return s
}

func (s *sumRow) scan(rows *sql.Rows) error {
	if err := rows.Scan(s.dest...); err != nil {
		return err
	}
	for i, t := range s.text {
		v, err := decimal.NewFromString(t)
		if err != nil {
			return fmt.Errorf("amount %q: %w", t, err)
		}
		s.amt[i] = v
	}
	return nil
}

// deleteKeyRollups removes the rollup rows of the given earlier imports of
// one export, as deleteExport removes their cost rows.
func deleteKeyRollups(ctx context.Context, tx bun.Tx, ids []int64, k exportKey) error {
	for _, t := range []string{"cost_tag_daily", "cost_resource_monthly"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE import_id IN (?) AND provider_name = ? AND billing_account_id = ? AND billing_period_start = ?",
			bun.In(ids), k.provider, k.account, k.bps); err != nil {
			return fmt.Errorf("replace earlier %s of %s account %q: %w", t, k.provider, k.account, err)
		}
	}
	return nil
}

// monthStart is the first second of t's calendar month in UTC.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// windowImports lists the imports of a source holding rows in its sync
// window, found in the small cost_daily; call it before deleting them.
func windowImports(ctx context.Context, tx bun.Tx, rep replacement) ([]int64, error) {
	var ids []int64
	err := tx.NewSelect().Table("cost_daily").ColumnExpr("DISTINCT import_id").
		Where("source_id = ? AND day >= ? AND day < ?", rep.sourceID, rep.from.Unix(), rep.to.Unix()).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("find imports of the sync window: %w", err)
	}
	return ids, nil
}

// refreshWindowResources recomputes, after a sync window's rows were
// replaced, the monthly resource rollup of the earlier imports that had
// rows in it: a window covers part of a month, so their month rows cannot
// simply be deleted. Those imports are syncs of one source, small, and
// read through the import index.
func refreshWindowResources(ctx context.Context, tx bun.Tx, pg bool, rep replacement, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	lo, hi := monthStart(rep.from).Unix(), monthStart(rep.to.Add(-time.Second)).AddDate(0, 1, 0).Unix()
	if _, err := tx.ExecContext(ctx, "DELETE FROM cost_resource_monthly WHERE import_id IN (?) AND month >= ? AND month < ?", bun.In(ids), lo, hi); err != nil {
		return fmt.Errorf("refresh resource rollup of the sync window: %w", err)
	}
	sel := resourceRollupSelect(pg, "import_id IN (?) AND charge_period_start >= ? AND charge_period_start < ?")
	if err := rollupInto(ctx, tx, pg, resourceRollupInsert, sel, 8, bun.In(ids), lo, hi); err != nil {
		return fmt.Errorf("refresh resource rollup of the sync window: %w", err)
	}
	return nil
}

// RebuildKeyRollups recomputes the tag and resource rollups from every cost
// row: the data migration for rows imported before these rollups existed,
// and the way for tools that fill cost_rows themselves (the benchmark's SQL
// filler) to build them; imports keep them current on their own.
func RebuildKeyRollups(ctx context.Context, d *db.DB) error {
	return d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, t := range []string{"cost_tag_daily", "cost_resource_monthly"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return fmt.Errorf("clear %s: %w", t, err)
			}
		}
		return fillKeyRollups(ctx, tx, d.IsPostgres(), "1 = 1")
	})
}
