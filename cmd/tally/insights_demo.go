package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tallyhq/tally/config"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/insights"
	"github.com/tallyhq/tally/insights/scheduler"
)

// demoInsights stores one built-in-rules run over the other domains' demo
// data, so that `serve --demo` has insights to show. It never calls an LLM
// or posts to Slack.
func demoInsights(ctx context.Context, d *db.DB, cfg *config.Config, stdout io.Writer) error {
	if cfg == nil { // callers without a configuration get the defaults
		var err error
		if cfg, err = config.Load(nil, func(string) string { return "" }); err != nil {
			return err
		}
	}
	svc, err := newInsights(d, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	svc.LLM, svc.Notifiers, svc.Pricing = nil, nil, nil
	// The demo run goes through the job runner, so jobRuns has a run to
	// show; its own job name keeps it apart from the weekly "insights" ticks.
	sched := scheduler.New(d, svc.Location, slog.New(slog.NewTextHandler(io.Discard, nil)), scheduler.Options{})
	var res *insights.RunResult
	if err := sched.Register("insights-demo", "@yearly", func(ctx context.Context) error {
		var err error
		res, err = svc.Run(ctx, insights.RunOptions{Trigger: "demo"})
		return err
	}); err != nil {
		return err
	}
	if _, err := sched.Tick(ctx, "insights-demo", time.Now().Truncate(time.Second)); err != nil {
		return fmt.Errorf("demo insights run: %w", err)
	}
	if res == nil {
		return errors.New("demo insights run: the job did not run")
	}
	fmt.Fprintf(stdout, "demo: stored insights run %d (built-in rules) with %d recommendations\n", res.Run.ID, len(res.Recommendations))
	return nil
}
