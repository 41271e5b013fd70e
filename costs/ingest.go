package costs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/db"
)

// Import is one file import or provider sync, as recorded in cost_imports.
type Import struct {
	bun.BaseModel `bun:"table:cost_imports"`

	ID           int64      `bun:"id,pk,autoincrement"`
	SourceID     int64      `bun:"source_id,notnull"`
	Kind         string     `bun:"kind,notnull"`
	Name         string     `bun:"name,notnull"`
	Status       string     `bun:"status,notnull"`
	RowsImported int64      `bun:"rows_imported,notnull"`
	RowsSkipped  int64      `bun:"rows_skipped,notnull"`
	RowsReplaced int64      `bun:"rows_replaced,notnull"`
	Error        string     `bun:"error,notnull"`
	WindowStart  *int64     `bun:"window_start"`
	WindowEnd    *int64     `bun:"window_end"`
	StartedAt    time.Time  `bun:"started_at,notnull"`
	FinishedAt   *time.Time `bun:"finished_at"`
}

// Import statuses.
const (
	StatusRunning = "running"
	StatusOK      = "ok"
	StatusFailed  = "failed"
)

const daySeconds = 86400

func dayOf(t time.Time) int64 {
	u := t.Unix()
	return u - ((u%daySeconds)+daySeconds)%daySeconds
}

// rowWriter streams rows into cost_rows inside the import's transaction.
type rowWriter interface {
	write(r *Row) error
	close() error
	abort()
}

// replacement says which earlier rows an ingest replaces.
type replacement struct {
	// export: rows of earlier file imports with the same provider, billing
	// account and billing period as any row of this one.
	export bool
	// window: rows of this source charged in [from, to).
	sourceID int64
	from, to time.Time
}

type exportKey struct {
	provider, account string
	bps               int64
}

// ingest runs one import: it records it, streams the rows that produce
// emits into cost_rows and the rollup in one transaction, replaces what the
// import supersedes, and commits only if everything succeeded.
func ingest(ctx context.Context, d *db.DB, rec *Import, rep replacement, produce func(emit func(*Row) error) error) (*Import, error) {
	rec.Status = StatusRunning
	rec.StartedAt = time.Now().UTC()
	if _, err := d.NewInsert().Model(rec).Exec(ctx); err != nil {
		return nil, fmt.Errorf("record import: %w", err)
	}
	err := ingestTx(ctx, d, rec, rep, produce)
	if err != nil {
		now := time.Now().UTC()
		rec.Status, rec.FinishedAt, rec.RowsImported = StatusFailed, &now, 0
		rec.Error = err.Error()
		if len(rec.Error) > 4000 {
			rec.Error = rec.Error[:4000]
		}
		if _, uerr := d.NewUpdate().Model(rec).WherePK().Exec(context.WithoutCancel(ctx)); uerr != nil {
			err = errors.Join(err, fmt.Errorf("record failed import: %w", uerr))
		}
		return rec, err
	}
	return rec, nil
}

func ingestTx(ctx context.Context, d *db.DB, rec *Import, rep replacement, produce func(emit func(*Row) error) error) (err error) {
	conn, err := d.Conn(ctx)
	if err != nil {
		return fmt.Errorf("database connection: %w", err)
	}
	defer conn.Close()
	if !d.IsPostgres() {
		// A big import dirties many pages; a larger page cache for this
		// connection keeps SQLite from spilling them to the WAL mid-way.
		if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -32768"); err != nil {
			return fmt.Errorf("sqlite cache size: %w", err)
		}
		defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = -2000") }()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	affected := emptyRange() // days whose dimension rollup must be redone
	var windowIDs []int64    // earlier syncs whose resource months to redo
	if !rep.from.IsZero() {
		if windowIDs, err = windowImports(ctx, tx, rep); err != nil {
			return err
		}
		n, err := deleteWindow(ctx, tx, rep)
		if err != nil {
			return err
		}
		rec.RowsReplaced += n
		affected.add(dayOf(rep.from), dayOf(rep.to)-daySeconds)
	}
	var w rowWriter
	if d.IsPostgres() {
		w = newPGWriter(ctx, conn, rec.SourceID, rec.ID)
	} else {
		if w, err = newSQLiteWriter(ctx, tx.Tx, rec.SourceID, rec.ID); err != nil {
			return err
		}
	}
	var sums streamRollups
	keys := map[exportKey]bool{}
	var last exportKey
	emit := func(r *Row) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.write(r); err != nil {
			return err
		}
		sums.add(r)
		if rep.export && (r.ProviderName != last.provider || r.BillingAccountID != last.account || r.BillingPeriodStart.Unix() != last.bps || len(keys) == 0) {
			last = exportKey{strings.Clone(r.ProviderName), strings.Clone(r.BillingAccountID), r.BillingPeriodStart.Unix()}
			keys[last] = true
		}
		rec.RowsImported++
		return nil
	}
	if err := produce(emit); err != nil {
		w.abort()
		return err
	}
	if err := w.close(); err != nil {
		return fmt.Errorf("write cost rows: %w", err)
	}
	exports := slices.SortedFunc(maps.Keys(keys), func(a, b exportKey) int {
		return cmp.Or(strings.Compare(a.provider, b.provider), strings.Compare(a.account, b.account), cmp.Compare(a.bps, b.bps))
	})
	if d.IsPostgres() {
		// Two imports of the same export at once: the second waits for the
		// first to commit, then replaces it, instead of both keeping rows.
		// All of a file's exports are locked first and in one order, before
		// any deletion takes the rollup lock (in the resource totals'
		// trigger): two files sharing accounts would otherwise each hold a
		// lock the other waits for.
		for _, k := range exports {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", fmt.Sprintf("tally-costs/%s/%s/%d", k.provider, k.account, k.bps)); err != nil {
				return fmt.Errorf("lock export %s account %q: %w", k.provider, k.account, err)
			}
		}
	}
	for _, k := range exports {
		n, err := deleteExport(ctx, tx, k, rec.ID, &affected)
		if err != nil {
			return err
		}
		rec.RowsReplaced += n
	}
	if err := sums.write(ctx, conn, tx, d.IsPostgres(), rec); err != nil {
		return err
	}
	if err := refreshWindowResources(ctx, tx, d.IsPostgres(), rep, windowIDs); err != nil {
		return err
	}
	lo, hi, err := dailySpan(ctx, tx, "import_id = ?", rec.ID)
	if err != nil {
		return err
	}
	affected.add(lo, hi)
	if err := refreshDimRollup(ctx, tx, d.IsPostgres(), affected); err != nil {
		return err
	}
	now := time.Now().UTC()
	rec.Status, rec.FinishedAt = StatusOK, &now
	if _, err := tx.NewUpdate().Model(rec).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("record import: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// deleteExport removes the rows and rollups of the earlier imports of one
// export; on PostgreSQL the caller holds the export's lock.
func deleteExport(ctx context.Context, tx bun.Tx, k exportKey, importID int64, affected *dayRange) (int64, error) {
	// The rollup (small, indexed by export) says which earlier imports hold
	// rows of this export; cost_rows is then reached through its import
	// index, so that it needs no export index of its own (every index
	// slows imports down).
	var ids []int64
	if err := tx.NewSelect().Table("cost_daily").ColumnExpr("DISTINCT import_id").
		Where("provider_name = ? AND billing_account_id = ? AND billing_period_start = ? AND source_id = 0 AND import_id <> ?", k.provider, k.account, k.bps, importID).
		Scan(ctx, &ids); err != nil {
		return 0, fmt.Errorf("find earlier imports of %s account %q: %w", k.provider, k.account, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM cost_rows WHERE import_id IN (?) AND provider_name = ? AND billing_account_id = ? AND billing_period_start = ?`,
		bun.In(ids), k.provider, k.account, k.bps)
	if err != nil {
		return 0, fmt.Errorf("replace earlier rows of %s account %q: %w", k.provider, k.account, err)
	}
	n, _ := res.RowsAffected()
	if err := deleteKeyRollups(ctx, tx, ids, k); err != nil {
		return 0, err
	}
	lo, hi, err := dailySpan(ctx, tx, "provider_name = ? AND billing_account_id = ? AND billing_period_start = ? AND source_id = 0 AND import_id <> ?", k.provider, k.account, k.bps, importID)
	if err != nil {
		return 0, err
	}
	affected.add(lo, hi)
	if _, err := tx.ExecContext(ctx, `DELETE FROM cost_daily WHERE provider_name = ? AND billing_account_id = ? AND billing_period_start = ? AND source_id = 0 AND import_id <> ?`,
		k.provider, k.account, k.bps, importID); err != nil {
		return 0, fmt.Errorf("replace earlier rollup of %s account %q: %w", k.provider, k.account, err)
	}
	return n, nil
}

func deleteWindow(ctx context.Context, tx bun.Tx, rep replacement) (int64, error) {
	from, to := rep.from.Unix(), rep.to.Unix()
	res, err := tx.ExecContext(ctx, `DELETE FROM cost_rows WHERE source_id = ? AND charge_period_start >= ? AND charge_period_start < ?`, rep.sourceID, from, to)
	if err != nil {
		return 0, fmt.Errorf("replace rows of the sync window: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `DELETE FROM cost_daily WHERE source_id = ? AND day >= ? AND day < ?`, rep.sourceID, from, to); err != nil {
		return 0, fmt.Errorf("replace rollup of the sync window: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM cost_tag_daily WHERE source_id = ? AND day >= ? AND day < ?`, rep.sourceID, from, to); err != nil {
		return 0, fmt.Errorf("replace tag rollup of the sync window: %w", err)
	}
	return n, nil
}

const dailyRollupInsert = `cost_daily (source_id, import_id, billing_period_start, day, provider_name,
	billing_account_id, sub_account_id, service_name, service_category, region_id, charge_category,
	billing_currency, billed_cost, effective_cost, list_cost, row_count)`

// dailyRollupSelect reads the cost_rows matching where per cost_daily key.
func dailyRollupSelect(pg bool, where string) string {
	const keys = `source_id, import_id, billing_period_start, charge_period_start - charge_period_start % 86400, provider_name,
	billing_account_id, sub_account_id, service_name, service_category, region_id, charge_category, billing_currency`
	if pg {
		return "SELECT " + keys + `, SUM(billed_cost), COALESCE(SUM(effective_cost), 0), COALESCE(SUM(list_cost), 0), COUNT(*)
FROM cost_rows WHERE ` + where + ` GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12`
	}
	return "SELECT " + keys + ", billed_cost, COALESCE(effective_cost, '0'), COALESCE(list_cost, '0'), 1 FROM cost_rows WHERE " + where
}
