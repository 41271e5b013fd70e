package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/config"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/insights"
	"github.com/tallyhq/tally/providers/llm"
	"github.com/tallyhq/tally/providers/notify"
)

// newInsights builds the insights service from the configuration: the
// traffic and spend sources, the LLM (none: built-in rules) and notifiers.
func newInsights(d *db.DB, cfg *config.Config, log *slog.Logger) (*insights.Service, error) {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("TALLY_TIMEZONE: %w", err)
	}
	svc := &insights.Service{
		DB: d,
		Builder: &insights.Builder{
			DB:      d,
			Traffic: insights.SQLTraffic{DB: d},
			Spend:   insights.CostSpend{DB: d},
		},
		Location:  loc,
		PublicURL: cfg.PublicURL,
		Log:       log,
	}
	if cfg.LLMProvider != "none" {
		c, err := llm.New(llm.Config{Provider: cfg.LLMProvider, BaseURL: cfg.LLMBaseURL, APIKey: cfg.LLMAPIKey, Model: cfg.LLMModel,
			APIVersion: cfg.LLMAPIVersion, Timeout: cfg.LLMTimeout, MaxTokens: cfg.LLMMaxTokens})
		if err != nil {
			return nil, fmt.Errorf("TALLY_LLM_PROVIDER=%s: %w", cfg.LLMProvider, err)
		}
		svc.LLM = c
	}
	if cfg.LLMPriceInput != "" || cfg.LLMPriceOutput != "" {
		p := &insights.Pricing{Currency: "USD"}
		p.InputPerMillion, _ = decimal.NewFromString(orZero(cfg.LLMPriceInput))
		p.OutputPerMillion, _ = decimal.NewFromString(orZero(cfg.LLMPriceOutput))
		svc.Pricing = p
	}
	if cfg.SlackWebhookURL != "" {
		svc.Notifiers = append(svc.Notifiers, notify.NewSlack(cfg.SlackWebhookURL))
	}
	if cfg.WebhookURL != "" {
		svc.Notifiers = append(svc.Notifiers, notify.NewWebhook(cfg.WebhookURL, cfg.WebhookSecret))
	}
	return svc, nil
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func cmdInsights(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintln(stderr, "usage: tally insights run [--from YYYY-MM-DD --to YYYY-MM-DD] [--dry-run]")
		return errors.New("unknown or missing subcommand")
	}
	fs, vals := flagSet("insights run", stderr)
	from := fs.String("from", "", "first day of the period, YYYY-MM-DD (default: 7 days before yesterday)")
	to := fs.String("to", "", "last day of the period, YYYY-MM-DD (default: yesterday)")
	dry := fs.Bool("dry-run", false, "print the exact payload as JSON and call nothing")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(vals)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	o := insights.RunOptions{DryRun: *dry, Trigger: "cli"}
	for _, p := range []struct {
		name, v string
		t       *time.Time
	}{{"--from", *from, &o.From}, {"--to", *to, &o.To}} {
		if p.v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, p.v)
		if err != nil {
			return fmt.Errorf("%s %q is not a date in the form YYYY-MM-DD", p.name, p.v)
		}
		*p.t = t
	}
	if o.From.IsZero() != o.To.IsZero() {
		return errors.New("give both --from and --to, or neither")
	}
	log := newLogger(cfg, stderr)
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	svc, err := newInsights(d, cfg, log)
	if err != nil {
		return err
	}
	res, err := svc.Run(ctx, o)
	if *dry {
		if err != nil {
			return err
		}
		// Exactly the bytes that would be sent, and a newline.
		_, err = fmt.Fprintf(stdout, "%s\n", res.Payload)
		return err
	}
	if res != nil && res.Run != nil {
		fmt.Fprintf(stdout, "insights run %d (%s, %s to %s): %s, %d recommendations\n", res.Run.ID, res.Run.Provider, res.Run.PeriodFrom, res.Run.PeriodTo, res.Run.Status, len(res.Recommendations))
		for i, r := range res.Recommendations {
			impact := ""
			if r.Impact != nil {
				impact = fmt.Sprintf(" [%s %s/month]", r.Impact.Amount.StringFixed(2), r.Impact.Currency)
			}
			fmt.Fprintf(stdout, "%2d. %s%s\n", i+1, r.Title, impact)
		}
	}
	return err
}
