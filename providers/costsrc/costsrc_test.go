package costsrc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
	"github.com/tallyhq/tally/providers/costsrc"
)

// Each fake below serves a fixture in its vendor's documented shape, checks
// the documented auth headers and parameters, paginates, and fails the first
// request with a retryable status so that the retry path runs.

// item is one fixture charge: a day, a grouping key and an amount in the
// currency's main unit.
type item struct {
	day, service, account, amount string
}

var now = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC) // window: last 7 days = 03-04 .. 03-10

var fixture = []item{
	{"2025-03-04", "gpt-4o", "proj_a", "1.25"},
	{"2025-03-04", "gpt-4o-mini", "proj_b", "0.000123"},
	{"2025-03-05", "gpt-4o", "proj_a", "2.50"},
	{"2025-03-06", "gpt-4o", "proj_b", "0.75"},
	{"2025-03-07", "gpt-4o-mini", "proj_a", "3.1415926535"},
	{"2025-03-08", "gpt-4o", "proj_a", "10"},
	{"2025-03-09", "gpt-4o-mini", "proj_b", "0.01"},
	{"2025-03-10", "gpt-4o", "proj_a", "0.5"},
}

func days() []string {
	var out []string
	for d := now.AddDate(0, 0, -6); !d.After(now); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

func itemsOn(day string) []item {
	var out []item
	for _, it := range fixture {
		if it.day == day {
			out = append(out, it)
		}
	}
	return out
}

func dayUnix(s string) int64 {
	t, _ := time.Parse(time.DateOnly, s)
	return t.Unix()
}

// failOnce answers the first request with status and Retry-After: 0.
func failOnce(status int) func(w http.ResponseWriter) bool {
	var n atomic.Int32
	return func(w http.ResponseWriter) bool {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"error":{"message":"slow down"}}`)
			return true
		}
		return false
	}
}

func fakeOpenAI(t *testing.T, key string) *httptest.Server {
	fail := failOnce(http.StatusTooManyRequests)
	const perPage = 3
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/organization/costs" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+key {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"message":"Invalid authorization header","type":"invalid_request_error"}}`)
			return
		}
		if fail(w) {
			return
		}
		q := r.URL.Query()
		if q.Get("bucket_width") != "1d" || strings.Join(q["group_by"], ",") != "line_item,project_id" {
			t.Errorf("openai: unexpected query %s", r.URL.RawQuery)
		}
		start, _ := strconv.ParseInt(q.Get("start_time"), 10, 64)
		end, _ := strconv.ParseInt(q.Get("end_time"), 10, 64)
		var buckets []map[string]any
		for _, d := range days() {
			if dayUnix(d) < start || dayUnix(d) >= end {
				continue
			}
			results := []map[string]any{}
			for _, it := range itemsOn(d) {
				results = append(results, map[string]any{
					"object":     "organization.costs.result",
					"amount":     map[string]any{"value": json.Number(it.amount), "currency": "usd"},
					"line_item":  it.service + ", input",
					"project_id": it.account,
				})
			}
			buckets = append(buckets, map[string]any{"object": "bucket", "start_time": dayUnix(d), "end_time": dayUnix(d) + 86400, "results": results})
		}
		page, _ := strconv.Atoi(strings.TrimPrefix(q.Get("page"), "page_"))
		lo, hi := page*perPage, min(page*perPage+perPage, len(buckets))
		resp := map[string]any{"object": "page", "data": buckets[lo:hi], "has_more": hi < len(buckets), "next_page": nil}
		if hi < len(buckets) {
			resp["next_page"] = fmt.Sprintf("page_%d", page+1)
		}
		_ = json.NewEncoder(w).Encode(resp)
	}))
}

func fakeAnthropic(t *testing.T, key string) *httptest.Server {
	fail := failOnce(http.StatusServiceUnavailable)
	const perPage = 2
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/organizations/cost_report" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("X-Api-Key") != key || r.Header.Get("Anthropic-Version") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
			return
		}
		if fail(w) {
			return
		}
		q := r.URL.Query()
		start, err1 := time.Parse(time.RFC3339, q.Get("starting_at"))
		end, err2 := time.Parse(time.RFC3339, q.Get("ending_at"))
		if err1 != nil || err2 != nil || q.Get("bucket_width") != "1d" || strings.Join(q["group_by[]"], ",") != "workspace_id,description" {
			t.Errorf("anthropic: unexpected query %s", r.URL.RawQuery)
		}
		var buckets []map[string]any
		for _, d := range days() {
			if dayUnix(d) < start.Unix() || dayUnix(d) >= end.Unix() {
				continue
			}
			results := []map[string]any{}
			for _, it := range itemsOn(d) {
				cents := decimal.RequireFromString(it.amount).Shift(2) // the API speaks cents
				results = append(results, map[string]any{
					"currency": "USD", "amount": cents.String(), "workspace_id": it.account,
					"description": it.service + " usage", "cost_type": "tokens", "context_window": "0-200k",
					"model": it.service, "service_tier": "standard", "token_type": "uncached_input_tokens",
				})
			}
			ds := time.Unix(dayUnix(d), 0).UTC()
			buckets = append(buckets, map[string]any{"starting_at": ds.Format(time.RFC3339), "ending_at": ds.AddDate(0, 0, 1).Format(time.RFC3339), "results": results})
		}
		page := 0
		if p := q.Get("page"); p != "" {
			page, _ = strconv.Atoi(strings.TrimPrefix(p, "page_"))
		}
		lo, hi := page*perPage, min(page*perPage+perPage, len(buckets))
		resp := map[string]any{"data": buckets[lo:hi], "has_more": hi < len(buckets), "next_page": nil}
		if hi < len(buckets) {
			resp["next_page"] = fmt.Sprintf("page_%d", page+1)
		}
		_ = json.NewEncoder(w).Encode(resp)
	}))
}

func fakeOpenCost(t *testing.T) *httptest.Server {
	fail := failOnce(http.StatusBadGateway)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/allocation/compute" {
			http.NotFound(w, r)
			return
		}
		if fail(w) {
			return
		}
		q := r.URL.Query()
		win := strings.Split(q.Get("window"), ",")
		if len(win) != 2 || q.Get("step") != "1d" || q.Get("aggregate") != "namespace" || q.Get("accumulate") != "false" {
			t.Errorf("opencost: unexpected query %s", r.URL.RawQuery)
		}
		var sets []map[string]any
		for _, d := range days() {
			ds := time.Unix(dayUnix(d), 0).UTC()
			set := map[string]any{}
			for _, it := range itemsOn(d) {
				set[it.account] = map[string]any{
					"name":       it.account,
					"properties": map[string]any{"cluster": "prod-1", "namespace": it.account, "labels": map[string]string{"app": it.service}},
					"window":     map[string]any{"start": ds.Format(time.RFC3339), "end": ds.AddDate(0, 0, 1).Format(time.RFC3339)},
					"start":      ds.Format(time.RFC3339), "end": ds.AddDate(0, 0, 1).Format(time.RFC3339),
					"cpuCost": json.Number("0"), "ramCost": json.Number("0"), "totalCost": json.Number(it.amount),
				}
			}
			sets = append(sets, set)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 200, "data": sets})
	}))
}

func fakeAWS(t *testing.T, keyID string) *httptest.Server {
	fail := failOnce(http.StatusInternalServerError)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "AWSInsightsIndexService.GetCostAndUsage" {
			http.NotFound(w, r)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+keyID+"/") {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}`)
			return
		}
		if fail(w) {
			return
		}
		var in struct {
			TimePeriod    struct{ Start, End string }
			Granularity   string
			Metrics       []string
			GroupBy       []struct{ Type, Key string }
			NextPageToken string
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Errorf("aws: body: %v", err)
		}
		if in.Granularity != "DAILY" || len(in.GroupBy) != 2 || in.GroupBy[0].Key != "SERVICE" || in.GroupBy[1].Key != "LINKED_ACCOUNT" {
			t.Errorf("aws: unexpected request %+v", in)
		}
		// Two days per page.
		var all []string
		for _, d := range days() {
			if d >= in.TimePeriod.Start && d < in.TimePeriod.End {
				all = append(all, d)
			}
		}
		page, _ := strconv.Atoi(strings.TrimPrefix(in.NextPageToken, "tok"))
		lo, hi := page*2, min(page*2+2, len(all))
		var results []map[string]any
		for _, d := range all[lo:hi] {
			groups := []map[string]any{}
			for _, it := range itemsOn(d) {
				groups = append(groups, map[string]any{
					"Keys": []string{it.service, it.account},
					"Metrics": map[string]any{
						"UnblendedCost": map[string]string{"Amount": it.amount, "Unit": "USD"},
						"AmortizedCost": map[string]string{"Amount": it.amount, "Unit": "USD"},
					},
				})
			}
			next, _ := time.Parse(time.DateOnly, d)
			results = append(results, map[string]any{
				"TimePeriod": map[string]string{"Start": d, "End": next.AddDate(0, 0, 1).Format(time.DateOnly)},
				"Total":      map[string]any{}, "Groups": groups, "Estimated": d == "2025-03-10",
			})
		}
		resp := map[string]any{
			"ResultsByTime":            results,
			"GroupDefinitions":         []map[string]string{{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}},
			"DimensionValueAttributes": []map[string]any{{"Value": "proj_a", "Attributes": map[string]string{"description": "Account A"}}},
		}
		if hi < len(all) {
			resp["NextPageToken"] = fmt.Sprintf("tok%d", page+1)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(resp)
	}))
}

func TestProvidersAgainstFakes(t *testing.T) {
	costsrc.DefaultClient.BaseDelay = time.Millisecond
	want := map[string]decimal.Decimal{} // per service
	wantAcct := map[string]decimal.Decimal{}
	for _, it := range fixture {
		a := decimal.RequireFromString(it.amount)
		want[it.service] = want[it.service].Add(a)
		wantAcct[it.account] = wantAcct[it.account].Add(a)
	}
	cases := []struct {
		kind, secret, provider string
		server                 func(t *testing.T, secret string) *httptest.Server
		serviceByAcct          bool // OpenCost reports namespaces, not services
	}{
		{"openai", "sk-admin-openai-secret-1", "OpenAI", fakeOpenAI, false},
		{"anthropic", "sk-ant-admin-secret-2", "Anthropic", fakeAnthropic, false},
		{"opencost", "", "Kubernetes", func(t *testing.T, _ string) *httptest.Server { return fakeOpenCost(t) }, true},
		{"aws", "AKIDTEST:aws-secret-key-3", "AWS", func(t *testing.T, s string) *httptest.Server { return fakeAWS(t, strings.Split(s, ":")[0]) }, false},
	}
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, c := range cases {
			t.Run(c.kind, func(t *testing.T) {
				srv := c.server(t, c.secret)
				defer srv.Close()
				var logs bytes.Buffer
				s := &costs.Sources{DB: d, Factories: costsrc.Factories(), Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now }}
				src, err := s.Create(ctx, costs.SourceConfig{Name: c.kind + "-test", Kind: c.kind, BaseURL: srv.URL, Credentials: c.secret})
				if err != nil {
					t.Fatal(err)
				}
				for round := 0; round < 2; round++ { // re-syncing replaces, never adds
					imp, err := s.Sync(ctx, src.ID, 0)
					if err != nil {
						t.Fatalf("sync: %v", err)
					}
					if imp.Status != costs.StatusOK || imp.RowsImported != int64(len(fixture)) {
						t.Fatalf("sync %+v, want ok with %d rows", imp, len(fixture))
					}
				}
				q := costs.Query{From: now.AddDate(0, 0, -6).Truncate(24 * time.Hour), To: now.Truncate(24 * time.Hour),
					Filters: []costs.Filter{{Dimension: costs.DimProvider, Values: []string{c.provider}}}}
				check := func(dim costs.Dimension, want map[string]decimal.Decimal) {
					rows, err := costs.Breakdown(ctx, d, q, dim, "", 100)
					if err != nil {
						t.Fatal(err)
					}
					if len(rows) != len(want) {
						t.Fatalf("%s: %d rows %+v, want %d", dim, len(rows), rows, len(want))
					}
					for _, r := range rows {
						if w, ok := want[r.Value]; !ok || !r.BilledCost.Equal(w) || !r.EffectiveCost.Equal(w) || r.Currency != "USD" {
							t.Errorf("%s %s: billed %s effective %s %s, want %s", dim, r.Value, r.BilledCost, r.EffectiveCost, r.Currency, w)
						}
					}
				}
				if !c.serviceByAcct {
					check(costs.DimService, want)
				}
				check(costs.DimSubAccount, wantAcct)
				// Unfiltered, the per-dimension rollup answers: the provider's
				// row must hold the fixture total after two syncs.
				var sum decimal.Decimal
				for _, it := range fixture {
					sum = sum.Add(decimal.RequireFromString(it.amount))
				}
				all := q
				all.Filters = nil
				rows, err := costs.Breakdown(ctx, d, all, costs.DimProvider, "", 100)
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, r := range rows {
					if r.Value == c.provider {
						found = r.EffectiveCost.Equal(sum)
					}
				}
				if !found {
					t.Errorf("provider breakdown %+v: want %s = %s", rows, c.provider, sum)
				}
				if c.secret != "" && strings.Contains(logs.String(), c.secret) {
					t.Errorf("the credentials appear in the logs")
				}
			})
		}
	})
}

func TestSyncFailureIsRecordedWithoutSecret(t *testing.T) {
	costsrc.DefaultClient.BaseDelay = time.Millisecond
	srv := fakeOpenAI(t, "the-right-key")
	defer srv.Close()
	d := dbtest.Open(t, db.SQLite)
	ctx := context.Background()
	var logs bytes.Buffer
	s := &costs.Sources{DB: d, Factories: costsrc.Factories(), Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now }}
	const secret = "sk-admin-wrong-key-0042"
	src, err := s.Create(ctx, costs.SourceConfig{Name: "bad", Kind: "openai", BaseURL: srv.URL, Credentials: secret})
	if err != nil {
		t.Fatal(err)
	}
	imp, syncErr := s.Sync(ctx, src.ID, 3)
	if syncErr == nil || imp == nil || imp.Status != costs.StatusFailed || !strings.Contains(imp.Error, "HTTP 401") {
		t.Fatalf("sync = %+v, %v; want a recorded 401 failure", imp, syncErr)
	}
	list, err := costs.Imports(ctx, d, src.ID, 10)
	if err != nil || len(list) != 1 || list[0].Status != costs.StatusFailed {
		t.Fatalf("imports %+v %v", list, err)
	}
	for what, s := range map[string]string{"error": syncErr.Error(), "record": list[0].Error, "logs": logs.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("the key appears in the %s", what)
		}
	}
}

func TestRetryGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := &costsrc.Client{HTTP: srv.Client(), Attempts: 3, BaseDelay: time.Millisecond}
	err := c.GetJSON(context.Background(), srv.URL+"/x?key=secret", nil, &struct{}{})
	if err == nil || calls.Load() != 3 || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err %v after %d calls; want a failure after 3 calls without the query string", err, calls.Load())
	}
}
