package costs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
)

// Budget is a spending limit on the rows its filters select, per calendar
// period (UTC), in one currency, with alert thresholds in percent.
type Budget struct {
	bun.BaseModel `bun:"table:cost_budgets"`

	ID         int64           `bun:"id,pk,autoincrement"`
	Name       string          `bun:"name,notnull"`
	Amount     decimal.Decimal `bun:"amount,type:text,notnull"`
	Currency   string          `bun:"currency,notnull"`
	Period     string          `bun:"period,notnull"`
	Filters    []Filter        `bun:"filters,type:json,notnull"`
	Thresholds []int           `bun:"thresholds,type:json,notnull"`
	CreatedAt  time.Time       `bun:"created_at,notnull"`
}

// Budget periods.
const (
	PeriodMonth   = "MONTH"
	PeriodQuarter = "QUARTER"
	PeriodYear    = "YEAR"
)

// CreateBudget validates and stores a budget.
func CreateBudget(ctx context.Context, d *db.DB, b Budget) (*Budget, error) {
	b.Name = strings.TrimSpace(b.Name)
	if b.Name == "" {
		return nil, apperr.Invalid("name", "is required")
	}
	if !b.Amount.IsPositive() {
		return nil, apperr.Invalid("amount", "must be greater than zero")
	}
	cur, err := parseCurrency(b.Currency)
	if err != nil {
		return nil, apperr.Invalid("currency", "%v", err)
	}
	b.Currency = cur
	if b.Period == "" {
		b.Period = PeriodMonth
	}
	if b.Period != PeriodMonth && b.Period != PeriodQuarter && b.Period != PeriodYear {
		return nil, apperr.Invalid("period", "must be MONTH, QUARTER or YEAR")
	}
	for i, f := range b.Filters {
		if err := checkDim(f.Dimension, f.TagKey, fmt.Sprintf("filters[%d]", i)); err != nil {
			return nil, err
		}
	}
	if b.Filters == nil {
		b.Filters = []Filter{}
	}
	if len(b.Thresholds) == 0 {
		b.Thresholds = []int{50, 80, 100}
	}
	for _, t := range b.Thresholds {
		if t <= 0 || t > 1000 {
			return nil, apperr.Invalid("thresholds", "%d is not a percentage between 1 and 1000", t)
		}
	}
	sort.Ints(b.Thresholds)
	b.CreatedAt = time.Now().UTC()
	if _, err := d.NewInsert().Model(&b).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create budget: %w", err)
	}
	return &b, nil
}

// ListBudgets returns every budget.
func ListBudgets(ctx context.Context, d *db.DB) ([]Budget, error) {
	var out []Budget
	if err := d.NewSelect().Model(&out).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list budgets: %w", err)
	}
	return out, nil
}

// GetBudget returns one budget.
func GetBudget(ctx context.Context, d *db.DB, id int64) (*Budget, error) {
	var b Budget
	if err := d.NewSelect().Model(&b).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.NotFound("budget")
		}
		return nil, fmt.Errorf("budget %d: %w", id, err)
	}
	return &b, nil
}

// DeleteBudget removes a budget.
func DeleteBudget(ctx context.Context, d *db.DB, id int64) (bool, error) {
	res, err := d.NewDelete().Model((*Budget)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("delete budget %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// BudgetStatus is where a budget stands in its current period.
type BudgetStatus struct {
	PeriodStart, PeriodEnd time.Time // [start, end), UTC days
	// Spent is the effective cost from the period start through today.
	Spent decimal.Decimal
	// Forecast is Spent plus the average daily spend of the last seven
	// complete days (fewer early in the period) times the days left.
	Forecast decimal.Decimal
	// PercentUsed and ForecastPercent are of the budget amount.
	PercentUsed, ForecastPercent decimal.Decimal
	// Crossed are the thresholds PercentUsed has reached.
	Crossed []int
	// ForecastOver is set when the forecast exceeds the budget.
	ForecastOver bool
}

func periodBounds(now time.Time, period string) (time.Time, time.Time) {
	y, m := now.Year(), now.Month()
	switch period {
	case PeriodQuarter:
		q := time.Month((int(m)-1)/3*3 + 1)
		s := time.Date(y, q, 1, 0, 0, 0, 0, time.UTC)
		return s, s.AddDate(0, 3, 0)
	case PeriodYear:
		s := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		return s, s.AddDate(1, 0, 0)
	}
	s := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	return s, s.AddDate(0, 1, 0)
}

var hundred = decimal.NewFromInt(100)

// Status computes a budget's spend, forecast and crossed thresholds at now.
func (b *Budget) Status(ctx context.Context, d *db.DB, now time.Time) (*BudgetStatus, error) {
	now = now.UTC()
	start, end := periodBounds(now, b.Period)
	today := time.Unix(dayOf(now), 0).UTC()
	q := Query{From: start, To: today, Filters: b.Filters, Currency: b.Currency}
	pts, err := Timeseries(ctx, d, q, Day)
	if err != nil {
		return nil, err
	}
	st := &BudgetStatus{PeriodStart: start, PeriodEnd: end}
	var recent decimal.Decimal
	var recentDays int64
	for _, p := range pts {
		st.Spent = st.Spent.Add(p.EffectiveCost)
		// complete days only: today is still being billed
		if p.Date.Before(today) && !p.Date.Before(today.AddDate(0, 0, -7)) {
			recent = recent.Add(p.EffectiveCost)
			recentDays++
		}
	}
	left := int64(end.Sub(today).Hours()/24) - 1 // days after today
	st.Forecast = st.Spent
	if recentDays > 0 && left > 0 {
		st.Forecast = st.Spent.Add(recent.Mul(decimal.NewFromInt(left)).DivRound(decimal.NewFromInt(recentDays), 12))
	}
	st.PercentUsed = st.Spent.Mul(hundred).DivRound(b.Amount, 2)
	st.ForecastPercent = st.Forecast.Mul(hundred).DivRound(b.Amount, 2)
	st.Crossed = []int{}
	for _, t := range b.Thresholds {
		if st.PercentUsed.GreaterThanOrEqual(decimal.NewFromInt(int64(t))) {
			st.Crossed = append(st.Crossed, t)
		}
	}
	st.ForecastOver = st.Forecast.GreaterThan(b.Amount)
	return st, nil
}

// MonthToDate returns this month's spend through today and the month-end
// forecast (as Budget.Status computes it) per currency for the filters.
func MonthToDate(ctx context.Context, d *db.DB, filters []Filter, now time.Time) ([]MonthForecast, error) {
	now = now.UTC()
	start, _ := periodBounds(now, PeriodMonth)
	tot, err := Total(ctx, d, Query{From: start, To: time.Unix(dayOf(now), 0).UTC(), Filters: filters})
	if err != nil {
		return nil, err
	}
	var out []MonthForecast
	for _, a := range tot {
		b := Budget{Amount: decimal.NewFromInt(1), Currency: a.Currency, Period: PeriodMonth, Filters: filters}
		st, err := b.Status(ctx, d, now)
		if err != nil {
			return nil, err
		}
		out = append(out, MonthForecast{Currency: a.Currency, MonthStart: start, Spent: st.Spent, Forecast: st.Forecast})
	}
	return out, nil
}

// MonthForecast is month-to-date spend and the month-end forecast in one
// currency.
type MonthForecast struct {
	Currency        string
	MonthStart      time.Time
	Spent, Forecast decimal.Decimal
}
