package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tallyhq/tally/analytics"
	"github.com/tallyhq/tally/collect"
	"github.com/tallyhq/tally/config"
	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/costs/sqltraffic"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/insights"
	"github.com/tallyhq/tally/insights/scheduler"
	"github.com/tallyhq/tally/resolvers"
	"github.com/tallyhq/tally/server"
)

// buildApp plugs the domains into the server. Each domain adds its services,
// routes, jobs and shutdown hooks here.
func buildApp(ctx context.Context, d *db.DB, cfg *config.Config, log *slog.Logger) (*app, error) {
	res := &resolvers.Resolver{DB: d, Started: time.Now()}
	// Costs: provider syncs (SyncAll is what the daily job calls) and the
	// traffic numbers unit economics divide by.
	res.CostSync = newCostSources(d, log)
	res.Traffic = sqltraffic.Traffic{DB: d}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("TALLY_TIMEZONE: %w", err)
	}
	// The job runner: domains register their jobs below; it starts at the
	// end of buildApp and stops when the app closes.
	sched := scheduler.New(d, loc, log, scheduler.Options{})
	ins, err := newInsights(d, cfg, log)
	if err != nil {
		return nil, err
	}
	res.Insights = ins
	if err := sched.Register("insights", cfg.InsightsSchedule, func(ctx context.Context) error {
		_, err := ins.Run(ctx, insights.RunOptions{Trigger: "schedule"})
		return err
	}); err != nil {
		return nil, fmt.Errorf("TALLY_INSIGHTS_SCHEDULE: %w", err)
	}
	if err := sched.Register("insights-deliveries", "*/10 * * * *", ins.RetryDeliveries); err != nil {
		return nil, err
	}
	scfg := server.DefaultConfig()
	scfg.Addr = cfg.Addr
	scfg.Introspection = cfg.Introspection
	srv := server.New(scfg, d, res, log)
	if err := sched.RegisterMetrics(srv.Registry); err != nil {
		return nil, fmt.Errorf("scheduler metrics: %w", err)
	}
	if err := ins.RegisterMetrics(srv.Registry); err != nil {
		return nil, fmt.Errorf("insights metrics: %w", err)
	}
	a := &app{server: srv, costSources: res.CostSync, scheduler: sched, insights: ins}

	// collect: the event endpoint and tracking script. Analytics plugs its
	// rollups in through the hook, so rollups commit with their events.
	collectOpts := collect.Options{
		Hook:            analytics.Hook{},
		TrustedProxies:  cfg.TrustedProxies,
		GeoIPDB:         cfg.GeoIPDB,
		KeepQueryParams: cfg.CollectKeepParams,
		QueueSize:       cfg.CollectQueueSize,
		Registry:        srv.Registry,
		Log:             log,
	}
	col, err := collect.New(d, collectOpts)
	if err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	col.Routes(srv)
	col.Start()
	// After the listener has drained, write every queued event.
	srv.OnShutdown(func(ctx context.Context) { _ = col.Close(ctx) })
	a.closers = append(a.closers, func() {
		cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = col.Close(cctx)
	})
	a.collector = col

	if err := sched.Register("retention", "15 3 * * *", func(ctx context.Context) error {
		n, err := analytics.EnforceRetention(ctx, d, time.Now())
		if n > 0 {
			log.Info("retention: deleted raw events past each site's retention", "rows", n)
		}
		return err
	}); err != nil {
		return nil, err
	}
	if err := sched.Register("cost-sync", cfg.CostSyncSchedule, res.CostSync.SyncAll); err != nil {
		return nil, fmt.Errorf("TALLY_COST_SYNC_SCHEDULE: %w", err)
	}
	// Register every job before this line.
	sched.Start()
	a.closers = append(a.closers, sched.Stop)
	a.closers = append(a.closers, startResourceIndexer(d, 30*time.Second, log))
	return a, nil
}

// startResourceIndexer refreshes the costs' resource index at start and then
// every period, until the returned stop is called. It is not a scheduled
// job: every replica may run it (concurrent refreshes skip each other), and
// a job would record a run twice a minute forever.
func startResourceIndexer(d *db.DB, every time.Duration, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			n, err := costs.RefreshResourceIndex(ctx, d)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("costs: resource index refresh failed; resource breakdowns use the rollups meanwhile", "err", err)
			case n > 0:
				log.Info("costs: rebuilt the resource index of changed months", "months", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
