package insights

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
)

// Pricing turns token counts into money (per million tokens).
type Pricing struct {
	InputPerMillion  decimal.Decimal
	OutputPerMillion decimal.Decimal
	Currency         string
}

// Service runs insights: summary, guard, LLM or rules, storage, delivery.
type Service struct {
	DB        *db.DB
	Builder   *Builder
	LLM       LLM // nil: the built-in rules (provider "none")
	Pricing   *Pricing
	Notifiers []Notifier
	Location  *time.Location
	PublicURL string
	Log       *slog.Logger
	Now       func() time.Time

	mu      sync.Mutex
	subs    map[chan struct{}]struct{}
	metrics *metrics
}

// RunOptions selects the period and the kind of run.
type RunOptions struct {
	// From and To are inclusive calendar days; zero means the seven days up
	// to yesterday.
	From, To time.Time
	DryRun   bool
	Trigger  string
	// OnStarted, when set, is called with the stored run (status running)
	// before the LLM or the rules are asked.
	OnStarted func(run Run)
}

// RunResult is a finished (or dry) run.
type RunResult struct {
	Payload         []byte
	Summary         *Summary
	Run             *Run // nil for a dry run
	Recommendations []Recommendation
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

// ProviderName is "none" for the built-in rules or the LLM's provider.
func (s *Service) ProviderName() string {
	if s.LLM == nil {
		return "none"
	}
	return s.LLM.Provider()
}

// Payload builds and guards the payload for a period without storing or
// sending anything: what a dry run shows.
func (s *Service) Payload(ctx context.Context, from, to time.Time) ([]byte, *Summary, error) {
	if from.IsZero() != to.IsZero() {
		return nil, nil, apperr.Invalid("from", "give both from and to, or neither")
	}
	if from.IsZero() {
		from, to = DefaultPeriod(s.now(), s.loc())
	}
	if to.Before(from) {
		return nil, nil, apperr.Invalid("to", "%s is before from %s", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	if to.Sub(from) > 366*24*time.Hour {
		return nil, nil, apperr.Invalid("to", "a period may span at most 366 days")
	}
	cur, prev := Range(from, to, s.loc())
	sum, err := s.Builder.Build(ctx, cur, prev)
	if err != nil {
		return nil, nil, err
	}
	payload, err := json.Marshal(sum)
	if err != nil {
		return nil, nil, fmt.Errorf("encode summary: %w", err)
	}
	if err := Scan(payload); err != nil {
		return nil, sum, err
	}
	return payload, sum, nil
}

// Run executes one run. A dry run returns the payload and touches nothing.
func (s *Service) Run(ctx context.Context, o RunOptions) (*RunResult, error) {
	started := s.now()
	payload, sum, err := s.Payload(ctx, o.From, o.To)
	if o.DryRun {
		if err != nil {
			return nil, err
		}
		return &RunResult{Payload: payload, Summary: sum}, nil
	}
	if o.Trigger == "" {
		o.Trigger = "manual"
	}
	run := &Run{Trigger: o.Trigger, Status: RunRunning, Provider: s.ProviderName(), RecommendationIDs: []int64{}, StartedAt: started.UTC()}
	if s.LLM != nil {
		run.Model = s.LLM.Model()
	}
	if sum != nil {
		run.PeriodFrom, run.PeriodTo = sum.Period.From, sum.Period.To
	}
	if err != nil {
		if !errors.Is(err, ErrPrivacy) {
			return nil, err
		}
		// The payload is not stored: it holds what the guard refused.
		run.Status, run.Error = RunBlocked, err.Error()
		s.finish(ctx, run, started)
		if _, ierr := s.DB.NewInsert().Model(run).Returning("id").Exec(ctx); ierr != nil {
			return nil, fmt.Errorf("store blocked run: %w", ierr)
		}
		s.log().Error("insights payload blocked by the privacy guard", "run", run.ID, "error", err)
		s.publish(run)
		return &RunResult{Run: run}, err
	}
	run.Payload = string(payload)
	// A run "running" for an hour was cut off (a stopped replica): say so.
	if _, err := s.DB.NewUpdate().Model((*Run)(nil)).Set("status = ?", RunFailed).Set("error = ?", "interrupted: the server stopped during the run").
		Where("status = ? AND started_at < ?", RunRunning, started.UTC().Add(-time.Hour)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("close interrupted runs: %w", err)
	}
	if _, err := s.DB.NewInsert().Model(run).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("store run: %w", err)
	}
	if o.OnStarted != nil {
		o.OnStarted(*run)
	}
	recs, err := s.recommend(ctx, run, sum, payload)
	if err != nil {
		run.Status, run.Error = RunFailed, err.Error()
		s.finish(ctx, run, started)
		if uerr := s.update(ctx, run); uerr != nil {
			return nil, uerr
		}
		s.log().Error("insights run failed", "run", run.ID, "provider", run.Provider, "error", err)
		s.publish(run)
		return &RunResult{Payload: payload, Summary: sum, Run: run}, err
	}
	for i := range recs {
		Verify(&recs[i], payload)
	}
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ids, err := saveRecommendations(ctx, tx, run.ID, recs, s.now().UTC())
		if err != nil {
			return err
		}
		run.RecommendationIDs = ids
		run.Status = RunSucceeded
		s.finish(ctx, run, started)
		_, err = tx.NewUpdate().Model(run).WherePK().Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store recommendations of run %d: %w", run.ID, err)
	}
	s.log().Info("insights run finished", "run", run.ID, "provider", run.Provider, "recommendations", len(recs), "duration_ms", run.DurationMS)
	s.publish(run)
	digest := BuildDigest(run.ID, sum, run.Provider, recs, s.PublicURL)
	s.deliver(ctx, run.ID, digest)
	return &RunResult{Payload: payload, Summary: sum, Run: run, Recommendations: recs}, nil
}

func (s *Service) finish(_ context.Context, run *Run, started time.Time) {
	end := s.now().UTC()
	run.FinishedAt = &end
	run.DurationMS = end.Sub(started).Milliseconds()
}

func (s *Service) update(ctx context.Context, run *Run) error {
	if _, err := s.DB.NewUpdate().Model(run).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("store run %d: %w", run.ID, err)
	}
	return nil
}

// recommend asks the LLM (with one repair attempt) or applies the rules.
func (s *Service) recommend(ctx context.Context, run *Run, sum *Summary, payload []byte) ([]Recommendation, error) {
	if s.LLM == nil {
		return Rules(sum), nil
	}
	msgs := Prompt(payload)
	prompt, _ := json.Marshal(msgs)
	run.Prompt = string(prompt)
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		res, err := s.LLM.Complete(ctx, Completion{Messages: msgs, SchemaName: "insights_recommendations", Schema: ResponseSchema()})
		if res != nil {
			run.Attempts += max(res.Attempts, 1)
			run.PromptTokens += res.PromptTokens
			run.CompletionTokens += res.CompletionTokens
			if res.Model != "" {
				run.Model = res.Model
			}
			run.Response = res.Content
			s.price(run)
		}
		if err != nil {
			return nil, fmt.Errorf("LLM call: %w", err)
		}
		recs, perr := ParseAnswer(res.Content)
		if perr == nil {
			return recs, nil
		}
		lastErr = perr
		// One repair attempt: show the model its answer and what is wrong.
		msgs = append(msgs,
			Message{Role: "assistant", Content: res.Content},
			Message{Role: "user", Content: "That answer is invalid: " + perr.Error() + ". Reply again with only the JSON object that follows the schema."})
		prompt, _ = json.Marshal(msgs)
		run.Prompt = string(prompt)
	}
	return nil, fmt.Errorf("invalid LLM answer after one repair attempt: %w", lastErr)
}

func (s *Service) price(run *Run) {
	if s.Pricing == nil {
		return
	}
	m := decimal.NewFromInt(1_000_000)
	c := s.Pricing.InputPerMillion.Mul(decimal.NewFromInt(int64(run.PromptTokens))).Div(m).
		Add(s.Pricing.OutputPerMillion.Mul(decimal.NewFromInt(int64(run.CompletionTokens))).Div(m))
	run.Cost = decimal.NewNullDecimal(c.Round(6))
	run.CostCurrency = s.Pricing.Currency
}

// PollInterval is how often subscribers look for runs finished by other
// replicas; runs finished in this process arrive at once.
var PollInterval = 3 * time.Second

// Subscribe returns a channel of runs that finish from now on, on this
// replica or on any other sharing the database; it is closed when ctx ends.
func (s *Service) Subscribe(ctx context.Context) <-chan *Run {
	out := make(chan *Run, 4)
	wake := make(chan struct{}, 1)
	s.mu.Lock()
	if s.subs == nil {
		s.subs = map[chan struct{}]struct{}{}
	}
	s.subs[wake] = struct{}{}
	s.mu.Unlock()
	// Runs above base that are not running yet are delivered once each, in
	// whatever order they finish.
	var base int64
	_ = s.DB.NewSelect().Table("insight_runs").ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &base)
	sent := map[int64]bool{}
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.subs, wake)
			s.mu.Unlock()
			close(out)
		}()
		t := time.NewTicker(PollInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			case <-t.C:
			}
			var runs []Run
			err := s.DB.NewSelect().Model(&runs).Where("id > ?", base).Where("status <> ?", RunRunning).Order("id").Limit(200).Scan(ctx)
			if err != nil {
				continue
			}
			for i := range runs {
				if sent[runs[i].ID] {
					continue
				}
				sent[runs[i].ID] = true
				select {
				case out <- &runs[i]:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

func (s *Service) publish(run *Run) {
	s.countRun(run)
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
