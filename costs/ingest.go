package costs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
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

// dailyRow is one row of the cost_daily rollup.
type dailyRow struct {
	bun.BaseModel `bun:"table:cost_daily"`

	SourceID           int64           `bun:"source_id,notnull"`
	ImportID           int64           `bun:"import_id,notnull"`
	BillingPeriodStart int64           `bun:"billing_period_start,notnull"`
	Day                int64           `bun:"day,notnull"`
	ProviderName       string          `bun:"provider_name,notnull"`
	BillingAccountID   string          `bun:"billing_account_id,notnull"`
	SubAccountID       string          `bun:"sub_account_id,notnull"`
	ServiceName        string          `bun:"service_name,notnull"`
	ServiceCategory    string          `bun:"service_category,notnull"`
	RegionID           string          `bun:"region_id,notnull"`
	ChargeCategory     string          `bun:"charge_category,notnull"`
	BillingCurrency    string          `bun:"billing_currency,notnull"`
	BilledCost         decimal.Decimal `bun:"billed_cost,type:text,notnull"`
	EffectiveCost      decimal.Decimal `bun:"effective_cost,type:text,notnull"`
	ListCost           decimal.Decimal `bun:"list_cost,type:text,notnull"`
	RowCount           int64           `bun:"row_count,notnull"`
}

type rollKey struct {
	bps, day                                                       int64
	provider, account, sub, service, category, region, charge, cur string
}

type rollVal struct {
	billed, effective, list decimal.Decimal
	n                       int64
}

// rollup sums rows per day and rollup dimensions while they stream by. It
// is bounded by days × distinct dimension values, not by the row count.
type rollup map[rollKey]*rollVal

const daySeconds = 86400

func dayOf(t time.Time) int64 {
	u := t.Unix()
	return u - ((u%daySeconds)+daySeconds)%daySeconds
}

func (ru rollup) add(r *Row) {
	k := rollKey{
		bps: r.BillingPeriodStart.Unix(), day: dayOf(r.ChargePeriodStart),
		provider: r.ProviderName, account: r.BillingAccountID, sub: r.SubAccountID,
		service: r.ServiceName, category: r.ServiceCategory, region: r.RegionID,
		charge: r.ChargeCategory, cur: r.BillingCurrency,
	}
	v := ru[k]
	if v == nil {
		// The strings point into the CSV record; copy them so that the map
		// does not keep every distinct row's whole record alive.
		k.provider, k.account, k.sub = strings.Clone(k.provider), strings.Clone(k.account), strings.Clone(k.sub)
		k.service, k.category, k.region = strings.Clone(k.service), strings.Clone(k.category), strings.Clone(k.region)
		k.charge, k.cur = strings.Clone(k.charge), strings.Clone(k.cur)
		v = &rollVal{}
		ru[k] = v
	}
	v.billed = v.billed.Add(r.BilledCost)
	if r.EffectiveCost.Valid {
		v.effective = v.effective.Add(r.EffectiveCost.Decimal)
	}
	if r.ListCost.Valid {
		v.list = v.list.Add(r.ListCost.Decimal)
	}
	v.n++
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
	if !rep.from.IsZero() {
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
	// PostgreSQL sums the rollup itself after COPY (exact NUMERIC, in C);
	// SQLite's TEXT amounts are summed here while the rows stream by.
	ru := rollup{}
	goRollup := !d.IsPostgres()
	keys := map[exportKey]bool{}
	var last exportKey
	emit := func(r *Row) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.write(r); err != nil {
			return err
		}
		if goRollup {
			ru.add(r)
		}
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
	for k := range keys {
		n, err := deleteExport(ctx, tx, k, rec.ID, d.IsPostgres(), &affected)
		if err != nil {
			return err
		}
		rec.RowsReplaced += n
	}
	if goRollup {
		if err := insertRollup(ctx, tx, ru, rec); err != nil {
			return err
		}
	} else if _, err := tx.ExecContext(ctx, pgRollupSQL, rec.ID); err != nil {
		return fmt.Errorf("write daily rollup: %w", err)
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

func deleteExport(ctx context.Context, tx bun.Tx, k exportKey, importID int64, pg bool, affected *dayRange) (int64, error) {
	if pg {
		// Two imports of the same export at once: the second waits for the
		// first to commit, then replaces it, instead of both keeping rows.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", fmt.Sprintf("tally-costs/%s/%s/%d", k.provider, k.account, k.bps)); err != nil {
			return 0, fmt.Errorf("lock export %s account %q: %w", k.provider, k.account, err)
		}
	}
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
	return n, nil
}

func insertRollup(ctx context.Context, tx bun.Tx, ru rollup, rec *Import) error {
	batch := make([]dailyRow, 0, 500)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return fmt.Errorf("write daily rollup: %w", err)
		}
		batch = batch[:0]
		return nil
	}
	for k, v := range ru {
		batch = append(batch, dailyRow{
			SourceID: rec.SourceID, ImportID: rec.ID, BillingPeriodStart: k.bps, Day: k.day,
			ProviderName: k.provider, BillingAccountID: k.account, SubAccountID: k.sub,
			ServiceName: k.service, ServiceCategory: k.category, RegionID: k.region,
			ChargeCategory: k.charge, BillingCurrency: k.cur,
			BilledCost: v.billed, EffectiveCost: v.effective, ListCost: v.list, RowCount: v.n,
		})
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// pgRollupSQL fills cost_daily for one import from its rows.
const pgRollupSQL = `INSERT INTO cost_daily (source_id, import_id, billing_period_start, day, provider_name,
	billing_account_id, sub_account_id, service_name, service_category, region_id, charge_category,
	billing_currency, billed_cost, effective_cost, list_cost, row_count)
SELECT source_id, import_id, billing_period_start, charge_period_start - charge_period_start % 86400, provider_name,
	billing_account_id, sub_account_id, service_name, service_category, region_id, charge_category,
	billing_currency, SUM(billed_cost), COALESCE(SUM(effective_cost), 0), COALESCE(SUM(list_cost), 0), COUNT(*)
FROM cost_rows WHERE import_id = ?
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12`
