package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tallyhq/tally/auth"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/sites"
)

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, vals := flagSet("migrate", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(vals)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	action := "up"
	if fs.NArg() > 0 {
		action = fs.Arg(0)
	}
	switch action {
	case "up":
		names, err := d.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprintln(stdout, "database is up to date")
		}
		for _, n := range names {
			fmt.Fprintln(stdout, "applied", n)
		}
	case "status":
		mg, err := d.Migrator()
		if err != nil {
			return err
		}
		if err := mg.Init(ctx); err != nil {
			return err
		}
		ms, err := mg.MigrationsWithStatus(ctx)
		if err != nil {
			return err
		}
		for _, m := range ms {
			state := "pending"
			if m.IsApplied() {
				state = fmt.Sprintf("applied (group %d)", m.GroupID)
			}
			fmt.Fprintf(stdout, "%s_%s\t%s\n", m.Name, m.Comment, state)
		}
	case "down":
		mg, err := d.Migrator()
		if err != nil {
			return err
		}
		if err := mg.Init(ctx); err != nil {
			return err
		}
		g, err := mg.Rollback(ctx)
		if err != nil {
			return fmt.Errorf("roll back: %w", err)
		}
		if g.IsZero() {
			fmt.Fprintln(stdout, "nothing to roll back")
		}
		for _, m := range g.Migrations {
			fmt.Fprintln(stdout, "rolled back", m.Name+"_"+m.Comment)
		}
	default:
		return fmt.Errorf("unknown action %q: use up, status or down", action)
	}
	return nil
}

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: tally token create --name NAME --scope admin|read|write [--site DOMAIN]")
	}
	fs, vals := flagSet("token create", stderr)
	name := fs.String("name", "cli", "a name to recognize the token by")
	scope := fs.String("scope", "admin", "admin, read or write")
	site := fs.String("site", "", "the site (domain) a read or write token is bound to")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	_, d, err := configuredDB(ctx, vals)
	if err != nil {
		return err
	}
	defer d.Close()
	var siteID *int64
	if *site != "" {
		s, err := sites.ByDomain(ctx, d, *site)
		if err != nil {
			return fmt.Errorf("--site %s: %w", *site, err)
		}
		siteID = &s.ID
	}
	t, secret, err := auth.Create(ctx, d, *name, auth.Scope(strings.ToLower(*scope)), siteID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "created token %d (%s, scope %s); the secret below is shown only once\n", t.ID, t.Name, t.Scope)
	fmt.Fprintln(stdout, secret)
	return nil
}

func cmdSite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "list") {
		return errors.New("usage: tally site add DOMAIN [--timezone TZ] | tally site list")
	}
	fs, vals := flagSet("site "+args[0], stderr)
	// The configuration already owns --timezone (TALLY_TIMEZONE, for
	// schedules); on `site add` the flag given on the command line is the
	// site's time zone, and the environment variable is not consulted.
	tzFlag := vals["TALLY_TIMEZONE"]
	positional, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	tz := "UTC"
	if *tzFlag != "" {
		tz = *tzFlag
		*tzFlag = ""
	}
	_, d, err := configuredDB(ctx, vals)
	if err != nil {
		return err
	}
	defer d.Close()
	if args[0] == "list" {
		ss, err := sites.List(ctx, d, nil)
		if err != nil {
			return err
		}
		for _, s := range ss {
			fmt.Fprintf(stdout, "%d\t%s\t%s\n", s.ID, s.Domain, s.Timezone)
		}
		return nil
	}
	if len(positional) != 1 {
		return errors.New("usage: tally site add DOMAIN [--timezone TZ]")
	}
	s, err := sites.Create(ctx, d, positional[0], tz)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added site %d: %s (%s)\n", s.ID, s.Domain, s.Timezone)
	return nil
}

// parseInterspersed parses flags placed before or after positional
// arguments (`site add example.com --timezone Europe/Berlin`), which the
// flag package alone stops at, and returns the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
