// Package config reads Tally's settings from environment variables and the
// matching command-line flags (a flag wins), and validates them at start so
// that a bad value stops the process with a message naming the variable.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Config is every setting, already validated.
type Config struct {
	Addr             string
	DatabaseURL      string
	AdminToken       string
	PublicURL        string
	LogLevel         string
	LogFormat        string
	Introspection    bool
	TrustedProxies   []netip.Prefix
	GeoIPDB          string
	LLMProvider      string
	LLMBaseURL       string
	LLMAPIKey        string
	LLMModel         string
	LLMAPIVersion    string
	LLMTimeout       time.Duration
	LLMMaxTokens     int
	LLMPriceInput    string
	LLMPriceOutput   string
	SlackWebhookURL  string
	WebhookURL       string
	WebhookSecret    string
	InsightsSchedule string
	Timezone         string
	CostSyncSchedule string
	DebugAddr        string
	// collect
	CollectKeepParams []string
	CollectQueueSize  int
}

// Option describes one setting: its variable, flag, default and whether it
// is a secret that must never be printed.
type Option struct {
	Env, Flag, Default, Help string
	Secret                   bool
	set                      func(c *Config, v string) error
}

// Options is the table of every setting, in the order the README lists them.
var Options = []Option{
	{Env: "TALLY_ADDR", Flag: "addr", Default: ":8080", Help: "address to listen on", set: func(c *Config, v string) error {
		if _, _, err := splitHostPort(v); err != nil {
			return err
		}
		c.Addr = v
		return nil
	}},
	{Env: "TALLY_DATABASE_URL", Flag: "database-url", Default: "sqlite:tally-data/tally.db", Help: "sqlite:PATH or postgres://user@host:5432/db?sslmode=disable", Secret: true, set: func(c *Config, v string) error {
		if !strings.HasPrefix(v, "sqlite:") && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
			return errors.New("must start with sqlite: or postgres://")
		}
		c.DatabaseURL = v
		return nil
	}},
	{Env: "TALLY_ADMIN_TOKEN", Flag: "admin-token", Help: "make sure an admin API token with this secret exists (at least 16 characters)", Secret: true, set: func(c *Config, v string) error {
		if v != "" && len(v) < 16 {
			return errors.New("must be at least 16 characters long")
		}
		c.AdminToken = v
		return nil
	}},
	{Env: "TALLY_PUBLIC_URL", Flag: "public-url", Help: "the URL users reach Tally at, used in links (Slack digests, tracking snippet)", set: func(c *Config, v string) error {
		if v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an http(s) URL such as https://tally.example.com")
			}
		}
		c.PublicURL = strings.TrimSuffix(v, "/")
		return nil
	}},
	{Env: "TALLY_LOG_LEVEL", Flag: "log-level", Default: "info", Help: "debug, info, warn or error", set: func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return errors.New("must be debug, info, warn or error")
	}},
	{Env: "TALLY_LOG_FORMAT", Flag: "log-format", Default: "text", Help: "text or json", set: func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return errors.New("must be text or json")
		}
		c.LogFormat = v
		return nil
	}},
	{Env: "TALLY_INTROSPECTION", Flag: "introspection", Default: "true", Help: "allow GraphQL introspection (the playground needs it)", set: func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		c.Introspection = b
		return nil
	}},
	{Env: "TALLY_TRUSTED_PROXIES", Flag: "trusted-proxies", Help: "comma-separated CIDRs whose X-Forwarded-For is believed", set: func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			p, err := netip.ParsePrefix(part)
			if err != nil {
				a, aerr := netip.ParseAddr(part)
				if aerr != nil {
					return fmt.Errorf("%q is not a CIDR range such as 10.0.0.0/8", part)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			c.TrustedProxies = append(c.TrustedProxies, p.Masked())
		}
		return nil
	}},
	{Env: "TALLY_GEOIP_DB", Flag: "geoip-db", Help: "path to a MaxMind-format .mmdb city database", set: func(c *Config, v string) error {
		if v != "" {
			if _, err := os.Stat(v); err != nil {
				return fmt.Errorf("cannot read %s: %v", v, errors.Unwrap(err))
			}
		}
		c.GeoIPDB = v
		return nil
	}},
	{Env: "TALLY_COLLECT_KEEP_PARAMS", Flag: "collect-keep-params", Help: "comma-separated query parameters kept in stored page paths (all others are dropped)", set: func(c *Config, v string) error {
		c.CollectKeepParams = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.CollectKeepParams = append(c.CollectKeepParams, p)
			}
		}
		return nil
	}},
	{Env: "TALLY_COLLECT_QUEUE_SIZE", Flag: "collect-queue-size", Default: "100000", Help: "events held in memory before /api/event answers 503", set: func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			return errors.New("must be a whole number of at least 100")
		}
		c.CollectQueueSize = n
		return nil
	}},
	{Env: "TALLY_LLM_PROVIDER", Flag: "llm-provider", Default: "none", Help: "none, openai, azure or openai-compatible", set: func(c *Config, v string) error {
		switch v {
		case "none", "openai", "azure", "openai-compatible":
			c.LLMProvider = v
			return nil
		}
		return errors.New("must be none, openai, azure or openai-compatible")
	}},
	{Env: "TALLY_LLM_BASE_URL", Flag: "llm-base-url", Help: "API base URL (required for azure and openai-compatible)", set: func(c *Config, v string) error {
		if v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an http(s) URL")
			}
		}
		c.LLMBaseURL = v
		return nil
	}},
	{Env: "TALLY_LLM_API_KEY", Flag: "llm-api-key", Help: "API key for the LLM provider", Secret: true, set: func(c *Config, v string) error { c.LLMAPIKey = v; return nil }},
	{Env: "TALLY_LLM_MODEL", Flag: "llm-model", Default: "gpt-4o-mini", Help: "model name (Azure: the deployment name)", set: func(c *Config, v string) error { c.LLMModel = v; return nil }},
	{Env: "TALLY_LLM_API_VERSION", Flag: "llm-api-version", Default: "2024-10-21", Help: "Azure OpenAI API version", set: func(c *Config, v string) error { c.LLMAPIVersion = v; return nil }},
	{Env: "TALLY_LLM_TIMEOUT", Flag: "llm-timeout", Default: "60s", Help: "how long one LLM call may take", set: func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 60s")
		}
		c.LLMTimeout = d
		return nil
	}},
	{Env: "TALLY_LLM_MAX_TOKENS", Flag: "llm-max-tokens", Default: "2000", Help: "maximum tokens in an LLM answer", set: func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errors.New("must be a positive whole number")
		}
		c.LLMMaxTokens = n
		return nil
	}},
	{Env: "TALLY_LLM_PRICE_INPUT", Flag: "llm-price-input", Help: "USD per million prompt tokens, to record what insights runs cost (optional)", set: func(c *Config, v string) error {
		if v != "" && !isDecimal(v) {
			return errors.New("must be a decimal number such as 0.15")
		}
		c.LLMPriceInput = v
		return nil
	}},
	{Env: "TALLY_LLM_PRICE_OUTPUT", Flag: "llm-price-output", Help: "USD per million completion tokens (optional)", set: func(c *Config, v string) error {
		if v != "" && !isDecimal(v) {
			return errors.New("must be a decimal number such as 0.60")
		}
		c.LLMPriceOutput = v
		return nil
	}},
	{Env: "TALLY_SLACK_WEBHOOK_URL", Flag: "slack-webhook-url", Help: "Slack incoming-webhook URL for the weekly digest", Secret: true, set: func(c *Config, v string) error {
		if v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an http(s) URL")
			}
		}
		c.SlackWebhookURL = v
		return nil
	}},
	{Env: "TALLY_WEBHOOK_URL", Flag: "webhook-url", Help: "generic JSON webhook for new insights (signed with TALLY_WEBHOOK_SECRET)", set: func(c *Config, v string) error {
		if v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an http(s) URL")
			}
		}
		c.WebhookURL = v
		return nil
	}},
	{Env: "TALLY_WEBHOOK_SECRET", Flag: "webhook-secret", Help: "HMAC-SHA256 key for the X-Tally-Signature header", Secret: true, set: func(c *Config, v string) error { c.WebhookSecret = v; return nil }},
	{Env: "TALLY_INSIGHTS_SCHEDULE", Flag: "insights-schedule", Default: "0 9 * * 1", Help: "cron expression for the weekly insights run (5 fields)", set: func(c *Config, v string) error {
		if _, err := cron.ParseStandard(v); err != nil {
			return fmt.Errorf("%q is not a valid cron expression: %v", v, err)
		}
		c.InsightsSchedule = v
		return nil
	}},
	{Env: "TALLY_COST_SYNC_SCHEDULE", Flag: "cost-sync-schedule", Default: "30 4 * * *", Help: "cron expression for the daily cost sync", set: func(c *Config, v string) error {
		if _, err := cron.ParseStandard(v); err != nil {
			return fmt.Errorf("%q is not a valid cron expression: %v", v, err)
		}
		c.CostSyncSchedule = v
		return nil
	}},
	{Env: "TALLY_TIMEZONE", Flag: "timezone", Default: "UTC", Help: "IANA time zone for schedules", set: func(c *Config, v string) error {
		if _, err := time.LoadLocation(v); err != nil {
			return fmt.Errorf("%q is not an IANA time zone name", v)
		}
		c.Timezone = v
		return nil
	}},
}

// isDecimal reports whether v is a non-negative decimal number.
func isDecimal(v string) bool {
	f, err := strconv.ParseFloat(v, 64)
	return err == nil && f >= 0 && !strings.ContainsAny(v, "eEnN")
}

// debugOption is appended last so that the README lists it after the
// everyday settings.
var debugOption = Option{Env: "TALLY_DEBUG_ADDR", Flag: "debug-addr", Help: "serve Go's pprof profiles on this address (keep it on localhost; empty: off)", set: func(c *Config, v string) error {
	if v != "" {
		if _, _, err := splitHostPort(v); err != nil {
			return err
		}
	}
	c.DebugAddr = v
	return nil
}}

func init() { Options = append(Options, debugOption) }

func splitHostPort(v string) (string, string, error) {
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		return "", "", errors.New("must be host:port or :port")
	}
	if _, err := strconv.Atoi(v[i+1:]); err != nil {
		return "", "", errors.New("must end in a port number")
	}
	return v[:i], v[i+1:], nil
}

// Register adds a flag for every option to fs; Load reads them back.
func Register(fs *flag.FlagSet) map[string]*string {
	vals := map[string]*string{}
	for _, o := range Options {
		vals[o.Env] = fs.String(o.Flag, "", o.Help+" (env "+o.Env+")")
	}
	return vals
}

// Load builds the configuration from flags (when set), then the environment,
// then defaults, and reports every bad value at once.
func Load(flags map[string]*string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	var errs []error
	for _, o := range Options {
		v := o.Default
		if e := getenv(o.Env); e != "" {
			v = e
		}
		if f := flags[o.Env]; f != nil && *f != "" {
			v = *f
		}
		if err := o.set(c, v); err != nil {
			shown := v
			if o.Secret {
				shown = "(secret)"
			}
			errs = append(errs, fmt.Errorf("%s (--%s) = %s: %w", o.Env, o.Flag, shown, err))
		}
	}
	if c.LLMProvider == "azure" || c.LLMProvider == "openai-compatible" {
		if c.LLMBaseURL == "" {
			errs = append(errs, fmt.Errorf("TALLY_LLM_BASE_URL is required when TALLY_LLM_PROVIDER=%s", c.LLMProvider))
		}
	}
	if (c.LLMProvider == "openai" || c.LLMProvider == "azure") && c.LLMAPIKey == "" {
		errs = append(errs, fmt.Errorf("TALLY_LLM_API_KEY is required when TALLY_LLM_PROVIDER=%s", c.LLMProvider))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}
