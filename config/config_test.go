package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DatabaseURL != "sqlite:tally-data/tally.db" || c.LLMProvider != "none" || c.InsightsSchedule != "0 9 * * 1" || !c.Introspection {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	cases := []struct {
		env          map[string]string
		want, secret string
	}{
		{map[string]string{"TALLY_DATABASE_URL": "mysql://u:hunter2@h/db"}, "TALLY_DATABASE_URL", "hunter2"},
		{map[string]string{"TALLY_INSIGHTS_SCHEDULE": "every monday"}, "TALLY_INSIGHTS_SCHEDULE", ""},
		{map[string]string{"TALLY_TRUSTED_PROXIES": "10.0.0.0/8, nonsense"}, "nonsense", ""},
		{map[string]string{"TALLY_LLM_PROVIDER": "skynet"}, "TALLY_LLM_PROVIDER", ""},
		{map[string]string{"TALLY_LLM_PROVIDER": "azure", "TALLY_LLM_API_KEY": "k"}, "TALLY_LLM_BASE_URL is required", ""},
		{map[string]string{"TALLY_ADDR": "localhost"}, "TALLY_ADDR", ""},
		{map[string]string{"TALLY_ADMIN_TOKEN": "short-secret"}, "TALLY_ADMIN_TOKEN", "short-secret"},
		{map[string]string{"TALLY_GEOIP_DB": "/does/not/exist.mmdb"}, "TALLY_GEOIP_DB", ""},
		{map[string]string{"TALLY_LLM_PRICE_INPUT": "cheap"}, "TALLY_LLM_PRICE_INPUT", ""},
		{map[string]string{"TALLY_LLM_PRICE_OUTPUT": "-1"}, "TALLY_LLM_PRICE_OUTPUT", ""},
		{map[string]string{"TALLY_LLM_PRICE_OUTPUT": "1e3"}, "TALLY_LLM_PRICE_OUTPUT", ""},
	}
	for _, c := range cases {
		_, err := Load(nil, env(c.env))
		if err == nil {
			t.Errorf("%v: accepted", c.env)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %q does not mention %q", c.env, err, c.want)
		}
		if c.secret != "" && strings.Contains(err.Error(), c.secret) {
			t.Errorf("%v: error leaks the secret: %q", c.env, err)
		}
	}
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	addr := ":9999"
	c, err := Load(map[string]*string{"TALLY_ADDR": &addr}, env(map[string]string{"TALLY_ADDR": ":7777"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9999" {
		t.Fatalf("addr = %s", c.Addr)
	}
	c, err = Load(nil, env(map[string]string{"TALLY_TRUSTED_PROXIES": "10.0.0.0/8,192.168.1.1"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1].Bits() != 32 {
		t.Fatalf("proxies = %v", c.TrustedProxies)
	}
}
