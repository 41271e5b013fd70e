package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/tallyhq/tally/auth"
	"github.com/tallyhq/tally/config"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

// harness is a running Tally built by the same buildApp as `tally serve`,
// behind a real HTTP listener, over a fresh database.
type harness struct {
	URL   string
	Admin string
	DB    *db.DB
	Cfg   *config.Config
	Logs  *bytes.Buffer
	app   *app
}

// eachStore runs fn against a fresh harness on SQLite and on PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Helper()
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		fn(t, startHarness(t, url, nil))
	})
}

// startHarness starts the app; env overrides configuration variables.
func startHarness(t *testing.T, dbURL string, env map[string]string) *harness {
	t.Helper()
	ctx := context.Background()
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "TALLY_DATABASE_URL" {
			return dbURL
		}
		if k == "TALLY_ADMIN_TOKEN" {
			return "tly_test_admin_secret_0123456789"
		}
		return ""
	}
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if _, err := auth.Ensure(ctx, d, "admin", cfg.AdminToken); err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := buildApp(ctx, d, cfg, log)
	if err != nil {
		t.Fatalf("build app: %v", err)
	}
	ts := httptest.NewServer(a.server.Handler())
	t.Cleanup(func() {
		ts.Close()
		a.close()
	})
	return &harness{URL: ts.URL, Admin: cfg.AdminToken, DB: d, Cfg: cfg, Logs: logs, app: a}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	if os.Getenv("TALLY_TEST_VERBOSE_LOGS") == "1" {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

// gqlResponse is a GraphQL answer as it arrived.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// code returns the first error's extensions.code, or "".
func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// gql posts a query with an optional token and decodes the answer.
func (h *harness) gql(t *testing.T, token, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, h.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST /graphql: status %d, body %s: %v", res.StatusCode, raw, err)
	}
	return out
}

// mustGQL is gql that fails the test on any error and decodes data into v.
func (h *harness) mustGQL(t *testing.T, token, query string, vars map[string]any, v any) {
	t.Helper()
	r := h.gql(t, token, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("graphql errors: %+v", r.Errors)
	}
	if v != nil {
		if err := json.Unmarshal(r.Data, v); err != nil {
			t.Fatalf("decode %s: %v", r.Data, err)
		}
	}
}
