package resolvers

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tallyhq/tally/gqltypes"
	"github.com/tallyhq/tally/insights"
)

// runDate reads a stored YYYY-MM-DD period bound.
func runDate(s string) (*gqltypes.Date, error) {
	if s == "" {
		return &gqltypes.Date{}, nil
	}
	d, err := gqltypes.ParseDate(s)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// rawJSON hands stored JSON text through unchanged, so the API shows the
// payload exactly as it was sent.
func rawJSON(s string) (*gqltypes.JSON, error) {
	if s == "" {
		return nil, nil
	}
	return &gqltypes.JSON{V: json.RawMessage(s)}, nil
}

// clampLimit applies a default and an upper bound to a list limit.
func clampLimit(limit *int, def, maxN int) int {
	if limit == nil || *limit <= 0 {
		return def
	}
	return min(*limit, maxN)
}

// RunWait is how long runInsights waits for a run before it answers with
// the run still "running" (the request has a deadline; an LLM may take
// longer). The run goes on and is announced by insightCreated.
var RunWait = 20 * time.Second

// runLimit bounds a run started from a request, which outlives it.
const runLimit = 10 * time.Minute

// runInsights runs in the background, detached from the request's
// deadline, and waits at most RunWait for the outcome.
func (r *Resolver) runInsights(ctx context.Context, o insights.RunOptions) (*insights.RunResult, error) {
	if o.DryRun {
		return r.Insights.Run(ctx, o)
	}
	type outcome struct {
		res *insights.RunResult
		err error
	}
	done := make(chan outcome, 1)
	started := make(chan insights.Run, 1)
	o.OnStarted = func(run insights.Run) { started <- run }
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), runLimit)
	go func() {
		defer cancel()
		res, err := r.Insights.Run(bg, o)
		done <- outcome{res, err}
	}()
	timer := time.NewTimer(RunWait)
	defer timer.Stop()
	select {
	case out := <-done:
		return out.res, out.err
	case <-timer.C:
	case <-ctx.Done():
	}
	select {
	case out := <-done:
		return out.res, out.err
	case run := <-started:
		return &insights.RunResult{Payload: []byte(run.Payload), Run: &run}, nil
	default:
		return nil, errors.New("the insights run is still building its summary")
	}
}
