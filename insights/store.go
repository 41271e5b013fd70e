package insights

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
)

// Run statuses.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunBlocked   = "blocked"
)

// Run is one stored insights run with exactly what was sent and received.
type Run struct {
	bun.BaseModel `bun:"table:insight_runs"`

	ID                int64               `bun:"id,pk,autoincrement"`
	Trigger           string              `bun:"trigger,notnull"`
	Status            string              `bun:"status,notnull"`
	Provider          string              `bun:"provider,notnull"`
	Model             string              `bun:"model,notnull"`
	PeriodFrom        string              `bun:"period_from,notnull"`
	PeriodTo          string              `bun:"period_to,notnull"`
	Payload           string              `bun:"payload,notnull"`
	Prompt            string              `bun:"prompt,notnull"`
	Response          string              `bun:"response,notnull"`
	PromptTokens      int                 `bun:"prompt_tokens,notnull"`
	CompletionTokens  int                 `bun:"completion_tokens,notnull"`
	Cost              decimal.NullDecimal `bun:"cost"`
	CostCurrency      string              `bun:"cost_currency,notnull"`
	DurationMS        int64               `bun:"duration_ms,notnull"`
	Attempts          int                 `bun:"attempts,notnull"`
	Error             string              `bun:"error,notnull"`
	RecommendationIDs []int64             `bun:"recommendation_ids,type:json,notnull"`
	StartedAt         time.Time           `bun:"started_at,notnull"`
	FinishedAt        *time.Time          `bun:"finished_at"`

	// Loaded by Preload, so that a list of runs with their recommendations
	// and deliveries costs three queries, not two per run.
	Loaded          bool             `bun:"-"`
	Recs            []Recommendation `bun:"-"`
	DeliveryRecords []Delivery       `bun:"-"`
}

// Preload fills Recs and DeliveryRecords of every run in two queries.
func Preload(ctx context.Context, d *db.DB, runs []Run) error {
	if len(runs) == 0 {
		return nil
	}
	var ids, recIDs []int64
	for _, r := range runs {
		ids = append(ids, r.ID)
		recIDs = append(recIDs, r.RecommendationIDs...)
	}
	byID := map[int64]Recommendation{}
	if len(recIDs) > 0 {
		var rows []recRow
		if err := d.NewSelect().Model(&rows).Where("id IN (?)", bun.In(recIDs)).Scan(ctx); err != nil {
			return fmt.Errorf("preload recommendations: %w", err)
		}
		for i := range rows {
			byID[rows[i].ID] = rows[i].rec()
		}
	}
	var dels []Delivery
	if err := d.NewSelect().Model(&dels).Where("run_id IN (?)", bun.In(ids)).Order("id").Scan(ctx); err != nil {
		return fmt.Errorf("preload deliveries: %w", err)
	}
	for i := range runs {
		r := &runs[i]
		r.Loaded, r.Recs, r.DeliveryRecords = true, []Recommendation{}, []Delivery{}
		for _, id := range r.RecommendationIDs {
			if rec, ok := byID[id]; ok {
				r.Recs = append(r.Recs, rec)
			}
		}
		for _, del := range dels {
			if del.RunID == r.ID {
				r.DeliveryRecords = append(r.DeliveryRecords, del)
			}
		}
	}
	return nil
}

type recRow struct {
	bun.BaseModel `bun:"table:recommendations"`

	ID             int64               `bun:"id,pk,autoincrement"`
	Fingerprint    string              `bun:"fingerprint,notnull"`
	Title          string              `bun:"title,notnull"`
	Category       string              `bun:"category,notnull"`
	ImpactAmount   decimal.NullDecimal `bun:"impact_amount"`
	ImpactCurrency string              `bun:"impact_currency,notnull"`
	Confidence     float64             `bun:"confidence,notnull"`
	Actions        []string            `bun:"actions,type:json,notnull"`
	Evidence       []Evidence          `bun:"evidence,type:json,notnull"`
	Unverified     []string            `bun:"unverified,type:json,notnull"`
	Source         string              `bun:"source,notnull"`
	Status         string              `bun:"status,notnull"`
	TimesSeen      int                 `bun:"times_seen,notnull"`
	FirstRunID     int64               `bun:"first_run_id,notnull"`
	LastRunID      int64               `bun:"last_run_id,notnull"`
	FirstSeenAt    time.Time           `bun:"first_seen_at,notnull"`
	LastSeenAt     time.Time           `bun:"last_seen_at,notnull"`
	UpdatedAt      time.Time           `bun:"updated_at,notnull"`
}

func (r *recRow) rec() Recommendation {
	out := Recommendation{
		ID: r.ID, Fingerprint: r.Fingerprint, Title: r.Title, Category: r.Category, Confidence: r.Confidence,
		Actions: r.Actions, Evidence: r.Evidence, Unverified: r.Unverified, Source: r.Source, Status: r.Status,
		TimesSeen: r.TimesSeen, FirstRunID: r.FirstRunID, LastRunID: r.LastRunID, FirstSeen: r.FirstSeenAt, LastSeen: r.LastSeenAt,
	}
	if r.ImpactAmount.Valid {
		out.Impact = &Money{Amount: r.ImpactAmount.Decimal, Currency: r.ImpactCurrency}
	}
	return out
}

// saveRecommendations stores the run's recommendations, merging each with an
// earlier one of the same fingerprint: the newer text and figures win, the
// count grows, a "done" one that comes back is reopened (it was not fixed),
// a dismissed one stays dismissed.
func saveRecommendations(ctx context.Context, d bun.IDB, runID int64, recs []Recommendation, now time.Time) ([]int64, error) {
	ids := make([]int64, 0, len(recs))
	for i := range recs {
		r := &recs[i]
		row := recRow{
			Fingerprint: r.Fingerprint, Title: r.Title, Category: r.Category, Confidence: r.Confidence,
			Actions: r.Actions, Evidence: r.Evidence, Unverified: r.Unverified, Source: r.Source,
			Status: StatusOpen, TimesSeen: 1, FirstRunID: runID, LastRunID: runID, FirstSeenAt: now, LastSeenAt: now, UpdatedAt: now,
		}
		if r.Impact != nil {
			row.ImpactAmount = decimal.NewNullDecimal(r.Impact.Amount)
			row.ImpactCurrency = r.Impact.Currency
		}
		var old recRow
		err := d.NewSelect().Model(&old).Where("fingerprint = ?", r.Fingerprint).Scan(ctx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := d.NewInsert().Model(&row).Returning("id").Exec(ctx); err != nil {
				return nil, fmt.Errorf("insert recommendation: %w", err)
			}
		case err != nil:
			return nil, fmt.Errorf("find recommendation: %w", err)
		default:
			row.ID, row.FirstRunID, row.FirstSeenAt = old.ID, old.FirstRunID, old.FirstSeenAt
			row.TimesSeen = old.TimesSeen
			if old.LastRunID != runID {
				row.TimesSeen++
			}
			row.Status = old.Status
			if old.Status == StatusDone {
				row.Status = StatusOpen
			}
			if _, err := d.NewUpdate().Model(&row).WherePK().Exec(ctx); err != nil {
				return nil, fmt.Errorf("update recommendation: %w", err)
			}
		}
		r.ID, r.Status, r.TimesSeen, r.FirstRunID, r.LastRunID = row.ID, row.Status, row.TimesSeen, row.FirstRunID, row.LastRunID
		r.FirstSeen, r.LastSeen = row.FirstSeenAt, row.LastSeenAt
		ids = append(ids, row.ID)
	}
	return ids, nil
}

// ListFilter selects recommendations.
type ListFilter struct {
	Status string // "" for all
	RunID  int64  // 0 for all
	Limit  int
}

// Recommendations lists recommendations, largest impact first within the
// most recent run.
func Recommendations(ctx context.Context, d *db.DB, f ListFilter) ([]Recommendation, error) {
	var rows []recRow
	q := d.NewSelect().Model(&rows).Order("last_run_id DESC", "id ASC")
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if f.RunID > 0 {
		var run Run
		if err := d.NewSelect().Model(&run).Column("recommendation_ids").Where("id = ?", f.RunID).Scan(ctx); err != nil {
			return nil, fmt.Errorf("load run %d: %w", f.RunID, err)
		}
		if len(run.RecommendationIDs) == 0 {
			return []Recommendation{}, nil
		}
		q = q.Where("id IN (?)", bun.In(run.RecommendationIDs))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list recommendations: %w", err)
	}
	out := make([]Recommendation, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].rec())
	}
	return out, nil
}

// SetStatus marks a recommendation done, dismissed or open again.
func SetStatus(ctx context.Context, d *db.DB, id int64, status string, now time.Time) (*Recommendation, error) {
	switch status {
	case StatusOpen, StatusDone, StatusDismissed:
	default:
		return nil, apperr.Invalid("status", "%q is not open, done or dismissed", status)
	}
	res, err := d.NewUpdate().Table("recommendations").Set("status = ?", status).Set("updated_at = ?", now).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("update recommendation %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, apperr.NotFound("recommendation")
	}
	var row recRow
	if err := d.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load recommendation %d: %w", id, err)
	}
	r := row.rec()
	return &r, nil
}

// Runs lists stored runs, newest first.
func Runs(ctx context.Context, d *db.DB, limit int) ([]Run, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	var runs []Run
	if err := d.NewSelect().Model(&runs).Order("id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list insight runs: %w", err)
	}
	return runs, nil
}

// RunByID loads one run.
func RunByID(ctx context.Context, d *db.DB, id int64) (*Run, error) {
	var r Run
	err := d.NewSelect().Model(&r).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound("insight run")
	}
	if err != nil {
		return nil, fmt.Errorf("load insight run %d: %w", id, err)
	}
	return &r, nil
}

// llmSpend sums the token use and cost of runs started in the range; costs
// are added in Go with exact decimals, per currency.
func llmSpend(ctx context.Context, d *db.DB, r TimeRange) (LLMSpend, error) {
	var runs []Run
	err := d.NewSelect().Model(&runs).Column("prompt_tokens", "completion_tokens", "cost", "cost_currency").
		Where("started_at >= ? AND started_at < ?", r.From.UTC(), r.To.UTC()).Scan(ctx)
	if err != nil {
		return LLMSpend{}, fmt.Errorf("summary: insights LLM spend: %w", err)
	}
	out := LLMSpend{Cost: []Money{}}
	sums := map[string]decimal.Decimal{}
	var order []string
	for _, run := range runs {
		out.Runs++
		out.PromptTokens += int64(run.PromptTokens)
		out.CompletionTokens += int64(run.CompletionTokens)
		if run.Cost.Valid {
			if _, ok := sums[run.CostCurrency]; !ok {
				order = append(order, run.CostCurrency)
			}
			sums[run.CostCurrency] = sums[run.CostCurrency].Add(run.Cost.Decimal)
		}
	}
	for _, c := range order {
		out.Cost = append(out.Cost, Money{Amount: sums[c], Currency: c})
	}
	return out, nil
}
