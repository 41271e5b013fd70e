package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/tallyhq/tally/config"
	"github.com/tallyhq/tally/db"
)

// flagSet returns a flag set with every configuration flag registered.
func flagSet(name string, stderr io.Writer) (*flag.FlagSet, map[string]*string) {
	fs := flag.NewFlagSet("tally "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs, config.Register(fs)
}

func loadConfig(vals map[string]*string) (*config.Config, error) {
	return config.Load(vals, os.Getenv)
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openDB opens and migrates the configured store.
func openDB(ctx context.Context, cfg *config.Config) (*db.DB, error) {
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if _, err := d.Migrate(ctx); err != nil {
		_ = d.Close()
		return nil, err
	}
	return d, nil
}

// configuredDB loads the configuration and opens the migrated store: the
// start of every command that works on the database.
func configuredDB(ctx context.Context, vals map[string]*string) (*config.Config, *db.DB, error) {
	cfg, err := loadConfig(vals)
	if err != nil {
		return nil, nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, d, nil
}
