package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/tallyhq/tally/auth"
	"github.com/tallyhq/tally/collect"
	"github.com/tallyhq/tally/config"
	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/insights"
	"github.com/tallyhq/tally/insights/scheduler"
	"github.com/tallyhq/tally/server"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, vals := flagSet("serve", stderr)
	demo := fs.Bool("demo", false, "load demo data into an empty database first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(vals)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := newLogger(cfg, stderr)
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	log.Info("database ready", "database", d.Redacted)

	if err := ensureAdmin(ctx, d, cfg, stdout); err != nil {
		return err
	}
	app, err := buildApp(ctx, d, cfg, log)
	if err != nil {
		return err
	}
	defer app.close()

	if cfg.DebugAddr != "" {
		if err := serveDebug(ctx, cfg.DebugAddr, log); err != nil {
			return fmt.Errorf("listen on %s (TALLY_DEBUG_ADDR): %w", cfg.DebugAddr, err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (TALLY_ADDR): %w", cfg.Addr, err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "playground", "http://"+displayAddr(ln.Addr())+"/")
	if !*demo {
		return app.server.Serve(ctx, ln)
	}
	// The demo loads while the server already answers, so /healthz is up
	// within a second; /readyz says 503 until the data is in.
	app.server.SetNotReady("loading demo data")
	demoDone := make(chan struct{})
	go func() {
		defer close(demoDone)
		start := time.Now()
		if err := loadDemo(ctx, d, cfg, stdout, false); err != nil {
			if ctx.Err() == nil {
				log.Error("demo data failed to load", "err", err)
				app.server.SetNotReady("demo data failed to load; see the server log")
			}
			return
		}
		log.Info("demo data ready", "took", time.Since(start).Round(time.Millisecond).String())
		app.server.SetReady()
	}()
	err = app.server.Serve(ctx, ln)
	<-demoDone // the loader uses the database, which closes when we return
	return err
}

// app is everything serve runs; buildApp is where domains are plugged in.
type app struct {
	server    *server.Server
	collector *collect.Collector
	closers   []func()
	// costSources.SyncAll is the daily cost sync job (TALLY_COST_SYNC_SCHEDULE).
	costSources *costs.Sources
	scheduler   *scheduler.Scheduler
	insights    *insights.Service
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

func displayAddr(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if host == "::" || host == "0.0.0.0" || host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// ensureAdmin guarantees an admin token: the configured secret, or on a
// first start a fresh one printed once.
func ensureAdmin(ctx context.Context, d *db.DB, cfg *config.Config, stdout io.Writer) error {
	if cfg.AdminToken != "" {
		if _, err := auth.Ensure(ctx, d, "admin (TALLY_ADMIN_TOKEN)", cfg.AdminToken); err != nil {
			return fmt.Errorf("TALLY_ADMIN_TOKEN: %w", err)
		}
		return nil
	}
	n, err := auth.Count(ctx, d)
	if err != nil {
		return fmt.Errorf("count tokens: %w", err)
	}
	if n > 0 {
		return nil
	}
	_, secret, err := auth.Create(ctx, d, "first admin", auth.ScopeAdmin, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nFirst start: created an admin API token. It is shown only this once:\n\n    %s\n\nPaste it into the playground's token field, or send it as Authorization: Bearer <token>.\n\n", secret)
	return nil
}
