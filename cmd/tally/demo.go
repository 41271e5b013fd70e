package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tallyhq/tally/analytics"
	"github.com/tallyhq/tally/analytics/synth"

	"github.com/tallyhq/tally/config"
	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/sites"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, vals := flagSet("demo", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, d, err := configuredDB(ctx, vals)
	if err != nil {
		return err
	}
	defer d.Close()
	return loadDemo(ctx, d, cfg, stdout, true)
}

// demoSites are the sites the demo creates; the other domains' demo data
// (events, costs, insights) hang off them.
var demoSites = []struct{ domain, tz string }{
	{"shop.example.com", "Europe/Berlin"},
	{"docs.example.com", "America/New_York"},
}

// loadDemo fills an empty database with demo data. With force unset it does
// nothing when sites already exist, so `serve --demo` can be run every time.
func loadDemo(ctx context.Context, d *db.DB, cfg *config.Config, stdout io.Writer, force bool) error {
	existing, err := sites.List(ctx, d, nil)
	if err != nil {
		return err
	}
	if len(existing) > 0 && !force {
		fmt.Fprintln(stdout, "demo: the database already has sites; leaving it as it is")
		return nil
	}
	for i, ds := range demoSites {
		if _, err := sites.ByDomain(ctx, d, ds.domain); err == nil {
			continue
		}
		site, err := sites.Create(ctx, d, ds.domain, ds.tz)
		if err != nil {
			return fmt.Errorf("create demo site %s: %w", ds.domain, err)
		}
		if err := loadDemoTraffic(ctx, d, site, uint64(i+1), stdout); err != nil {
			return fmt.Errorf("demo traffic for %s: %w", ds.domain, err)
		}
	}
	fmt.Fprintf(stdout, "demo: created %d sites\n", len(demoSites))
	if err := costs.LoadDemo(ctx, d, time.Now()); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "demo: imported the FOCUS sample and 60 days of cloud and LLM costs (tags app=shop, app=docs)")
	// Insights last: it summarizes whatever the other domains loaded.
	return demoInsights(ctx, d, cfg, stdout)
}

// loadDemoTraffic fills a demo site with about 30 days of generated visits
// (tens of thousands of events, a few seconds) and a couple of goals.
func loadDemoTraffic(ctx context.Context, d *db.DB, site *db.Site, seed uint64, stdout io.Writer) error {
	loc, err := time.LoadLocation(site.Timezone)
	if err != nil {
		loc = time.UTC
	}
	c, err := synth.Load(ctx, d, synth.Config{SiteID: site.ID, Hostname: site.Domain, Events: 25_000, Days: 30, End: time.Now(), Seed: seed, Loc: loc})
	if err != nil {
		return err
	}
	if err := analytics.Rebuild(ctx, d, site.ID); err != nil {
		return err
	}
	for _, g := range []analytics.GoalInput{{Name: "Signup", EventName: "Signup"}, {Name: "Visit pricing", PagePath: "/pricing"}, {Name: "Purchase", EventName: "Purchase"}} {
		if _, err := analytics.CreateGoal(ctx, d, site.ID, g); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "demo: %s has %d events in %d visits over 30 days, and 3 goals\n", site.Domain, c.Events, c.Sessions)
	return nil
}
