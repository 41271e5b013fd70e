package costs

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/db"
)

// dimOrder lists the dimensions of cost_dim_daily.
var dimOrder = []Dimension{DimProvider, DimService, DimServiceCategory, DimBillingAccount, DimSubAccount, DimRegion, DimChargeCategory}

type dimDailyRow struct {
	bun.BaseModel `bun:"table:cost_dim_daily"`

	Day             int64           `bun:"day,notnull"`
	Dim             string          `bun:"dim,notnull"`
	Value           string          `bun:"value,notnull"`
	BillingCurrency string          `bun:"billing_currency,notnull"`
	BilledCost      decimal.Decimal `bun:"billed_cost,type:text,notnull"`
	EffectiveCost   decimal.Decimal `bun:"effective_cost,type:text,notnull"`
	ListCost        decimal.Decimal `bun:"list_cost,type:text,notnull"`
	RowCount        int64           `bun:"row_count,notnull"`
}

// dayRange is the span of days an import touched, empty when lo > hi.
type dayRange struct{ lo, hi int64 }

func (r *dayRange) add(lo, hi int64) {
	switch {
	case lo > hi:
	case r.lo > r.hi:
		r.lo, r.hi = lo, hi
	default:
		r.lo, r.hi = min(r.lo, lo), max(r.hi, hi)
	}
}

func emptyRange() dayRange { return dayRange{lo: 1, hi: 0} }

// dailySpan returns the first and last day of the cost_daily rows matching
// where; lo > hi when there are none.
func dailySpan(ctx context.Context, tx bun.Tx, where string, args ...any) (int64, int64, error) {
	var lo, hi *int64
	if err := tx.QueryRowContext(ctx, "SELECT MIN(day), MAX(day) FROM cost_daily WHERE "+where, args...).Scan(&lo, &hi); err != nil {
		return 1, 0, fmt.Errorf("rollup span: %w", err)
	}
	if lo == nil || hi == nil {
		return 1, 0, nil
	}
	return *lo, *hi, nil
}

// refreshDimRollup recomputes cost_dim_daily for the days of r from
// cost_daily, inside the import's transaction.
func refreshDimRollup(ctx context.Context, tx bun.Tx, pg bool, r dayRange) error {
	if r.lo > r.hi {
		return nil
	}
	if pg {
		// Imports touching the same days must not interleave their
		// delete and insert, or rows would be counted twice.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('tally-costs/dim-rollup'))"); err != nil {
			return fmt.Errorf("lock dimension rollup: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM cost_dim_daily WHERE day >= ? AND day <= ?", r.lo, r.hi); err != nil {
		return fmt.Errorf("refresh dimension rollup: %w", err)
	}
	if pg {
		for _, dim := range dimOrder {
			col := rollupColumns[dim]
			if _, err := tx.ExecContext(ctx, `INSERT INTO cost_dim_daily (day, dim, value, billing_currency, billed_cost, effective_cost, list_cost, row_count)
				SELECT day, ?, `+col+`, billing_currency, SUM(billed_cost), SUM(effective_cost), SUM(list_cost), SUM(row_count)
				FROM cost_daily WHERE day >= ? AND day <= ? GROUP BY day, `+col+`, billing_currency`, string(dim), r.lo, r.hi); err != nil {
				return fmt.Errorf("refresh dimension rollup %s: %w", dim, err)
			}
		}
		return nil
	}
	// SQLite: sum the TEXT amounts exactly in Go.
	cols := make([]string, len(dimOrder))
	for i, dim := range dimOrder {
		cols[i] = rollupColumns[dim]
	}
	rows, err := tx.QueryContext(ctx, "SELECT day, "+strings.Join(cols, ", ")+", billing_currency, billed_cost, effective_cost, list_cost, row_count FROM cost_daily WHERE day >= ? AND day <= ?", r.lo, r.hi)
	if err != nil {
		return fmt.Errorf("refresh dimension rollup: %w", err)
	}
	type key struct {
		day             int64
		dim, value, cur string
	}
	sums := map[key]*dimDailyRow{}
	vals := make([]string, len(cols))
	for rows.Next() {
		var day, n int64
		var cur, b, e, l string
		dest := []any{&day}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		dest = append(dest, &cur, &b, &e, &l, &n)
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return fmt.Errorf("refresh dimension rollup: %w", err)
		}
		var amt [3]decimal.Decimal
		for i, s := range []string{b, e, l} {
			if amt[i], err = decimal.NewFromString(s); err != nil {
				rows.Close()
				return fmt.Errorf("refresh dimension rollup: amount %q: %w", s, err)
			}
		}
		for i, dim := range dimOrder {
			k := key{day, string(dim), vals[i], cur}
			s := sums[k]
			if s == nil {
				s = &dimDailyRow{Day: day, Dim: string(dim), Value: vals[i], BillingCurrency: cur}
				sums[k] = s
			}
			s.BilledCost = s.BilledCost.Add(amt[0])
			s.EffectiveCost = s.EffectiveCost.Add(amt[1])
			s.ListCost = s.ListCost.Add(amt[2])
			s.RowCount += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("refresh dimension rollup: %w", err)
	}
	batch := make([]dimDailyRow, 0, 500)
	for _, s := range sums {
		batch = append(batch, *s)
		if len(batch) == cap(batch) {
			if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
				return fmt.Errorf("write dimension rollup: %w", err)
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return fmt.Errorf("write dimension rollup: %w", err)
		}
	}
	return nil
}

// RebuildDimRollup recomputes cost_dim_daily for every day of cost_daily,
// for tools that fill cost_daily themselves (the benchmark's SQL filler);
// imports keep it current on their own.
func RebuildDimRollup(ctx context.Context, d *db.DB) error {
	return d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		lo, hi, err := dailySpan(ctx, tx, "1 = 1")
		if err != nil {
			return err
		}
		return refreshDimRollup(ctx, tx, d.IsPostgres(), dayRange{lo, hi})
	})
}
