package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/auth"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/sites"
)

const focusSample = "../../costs/testdata/focus-1.0-sample-aws.csv"

// upload posts a GraphQL multipart request (the graphql-multipart-request
// spec) with one file bound to $file.
func (h *harness) upload(t *testing.T, token, query, filename string, content []byte, vars map[string]any) gqlResponse {
	t.Helper()
	if vars == nil {
		vars = map[string]any{}
	}
	vars["file"] = nil
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0":["variables.file"]}`)
	fw, _ := mw.CreateFormFile("0", filename)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, h.URL+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("upload: status %d body %s", res.StatusCode, raw)
	}
	return out
}

// sampleSums computes, straight from the CSV, the billed cost per service
// and the effective cost on 2024-09-24 of rows tagged application=app.
func sampleSums(t *testing.T, app string) (perService map[string]decimal.Decimal, total, tagged decimal.Decimal) {
	t.Helper()
	f, err := os.Open(focusSample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	perService = map[string]decimal.Decimal{}
	for _, r := range recs[1:] {
		b := decimal.RequireFromString(r[col["BilledCost"]])
		perService[r[col["ServiceName"]]] = perService[r[col["ServiceName"]]].Add(b)
		total = total.Add(b)
		if strings.HasPrefix(r[col["ChargePeriodStart"]], "2024-09-24") && strings.Contains(r[col["Tags"]], `"application": "`+app+`"`) {
			tagged = tagged.Add(decimal.RequireFromString(r[col["EffectiveCost"]]))
		}
	}
	return perService, total, tagged
}

func TestCostsE2E(t *testing.T) {
	content, err := os.ReadFile(focusSample)
	if err != nil {
		t.Fatal(err)
	}
	perService, total, _ := sampleSums(t, "")
	const importQ = `mutation($file: Upload!, $skip: Boolean) { importFocus(file: $file, skipInvalid: $skip) { import { status rowsImported rowsReplaced rowsSkipped } errors } }`
	const costsQ = `query($from: Date!, $to: Date!) { costs(dateRange: {from: $from, to: $to}) {
		total { currency billedCost effectiveCost listCost savings }
		breakdown(dimension: SERVICE, limit: 100) { value currency billedCost }
		timeseries(interval: MONTH) { date billedCost } } }`
	sept := map[string]any{"from": "2024-09-01", "to": "2024-09-30"}
	eachStore(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		// Upload twice: the second replaces the first.
		for round := 0; round < 2; round++ {
			r := h.upload(t, h.Admin, importQ, "sample.csv", content, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("upload: %+v", r.Errors)
			}
			var got struct {
				ImportFocus struct {
					Import struct {
						Status                     string
						RowsImported, RowsReplaced int64
					}
				}
			}
			_ = json.Unmarshal(r.Data, &got)
			if got.ImportFocus.Import.Status != "ok" || got.ImportFocus.Import.RowsImported != 942 || got.ImportFocus.Import.RowsReplaced != int64(942*round) {
				t.Fatalf("round %d: %+v", round, got)
			}
		}
		r := h.gql(t, h.Admin, costsQ, sept)
		if len(r.Errors) > 0 {
			t.Fatalf("costs: %+v", r.Errors)
		}
		// Money travels as strings.
		if !bytes.Contains(r.Data, []byte(`"billedCost":"`+total.String()+`"`)) {
			t.Errorf("total billedCost is not the string %q: %s", total.String(), r.Data[:200])
		}
		var got struct {
			Costs struct {
				Breakdown []struct {
					Value, Currency string
					BilledCost      decimal.Decimal
				}
				Timeseries []struct {
					Date       string
					BilledCost decimal.Decimal
				}
			}
		}
		if err := json.Unmarshal(r.Data, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Costs.Breakdown) != len(perService) {
			t.Fatalf("breakdown has %d services, want %d", len(got.Costs.Breakdown), len(perService))
		}
		for _, b := range got.Costs.Breakdown {
			if !b.BilledCost.Equal(perService[b.Value]) {
				t.Errorf("%s: %s, want %s", b.Value, b.BilledCost, perService[b.Value])
			}
		}
		if len(got.Costs.Timeseries) != 1 || got.Costs.Timeseries[0].Date != "2024-09-01" || !got.Costs.Timeseries[0].BilledCost.Equal(total) {
			t.Errorf("monthly series %+v, want one point of %s", got.Costs.Timeseries, total)
		}

		// The command line imports the same export: it replaces, totals stay.
		var out, errOut bytes.Buffer
		if code := run(ctx, []string{"import", "focus", "--database-url", h.Cfg.DatabaseURL, focusSample}, &out, &errOut); code != 0 {
			t.Fatalf("tally import focus: %d %s", code, errOut.String())
		}
		if !strings.Contains(out.String(), "imported 942 rows, replaced 942") {
			t.Errorf("import output %q", out.String())
		}
		var n int
		if err := h.DB.NewSelect().Table("cost_rows").ColumnExpr("count(*)").Scan(ctx, &n); err != nil || n != 942 {
			t.Fatalf("%d rows after three imports (%v), want 942", n, err)
		}

		// Invalid files: nothing imported, errors name line and column.
		bad := []byte("ChargePeriodStart,ChargePeriodEnd,BilledCost,BillingCurrency\n2025-01-01 00:00:00,2025-01-02 00:00:00,1,USD\n2025-01-01 00:00:00,2025-01-02 00:00:00,one,USD\n")
		r = h.upload(t, h.Admin, importQ, "bad.csv", bad, nil)
		if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "line 3, column BilledCost") {
			t.Errorf("bad upload: %+v", r.Errors)
		}
		r = h.upload(t, h.Admin, importQ, "bad.csv", bad, map[string]any{"skip": true})
		if len(r.Errors) > 0 || !bytes.Contains(r.Data, []byte(`"rowsImported":1`)) || !bytes.Contains(r.Data, []byte(`line 3, column BilledCost`)) {
			t.Errorf("skip-invalid upload: %s %+v", r.Data, r.Errors)
		}

		// Access: cost data is admin only.
		site, err := sites.Create(ctx, h.DB, "shop.example.com", "UTC")
		if err != nil {
			t.Fatal(err)
		}
		_, readTok, err := auth.Create(ctx, h.DB, "reader", auth.ScopeRead, &site.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ token, code string }{{"", "UNAUTHENTICATED"}, {readTok, "FORBIDDEN"}} {
			if r := h.gql(t, c.token, costsQ, sept); r.code() != c.code {
				t.Errorf("costs with token %q: code %q, want %s", c.token, r.code(), c.code)
			}
			if r := h.upload(t, c.token, importQ, "sample.csv", content, nil); r.code() != c.code {
				t.Errorf("upload with token %q: code %q, want %s", c.token, r.code(), c.code)
			}
		}
		costUnitEconomics(t, h, site)
		costSourceLifecycle(t, h)
	})
}

// costUnitEconomics adds raw events for 2024-09-24 and checks cost per
// visitor, per 1,000 pageviews and per conversion against the CSV.
func costUnitEconomics(t *testing.T, h *harness, site *db.Site) {
	ctx := context.Background()
	const app = "BrightPathMatrix"
	_, _, tagged := sampleSums(t, app)
	if tagged.IsZero() {
		t.Fatalf("fixture: no %s spend on 2024-09-24", app)
	}
	day := time.Date(2024, 9, 24, 0, 0, 0, 0, time.UTC).Unix()
	evs := []db.Event{}
	add := func(visitor int64, name string, offset int64) {
		evs = append(evs, db.Event{SiteID: site.ID, TS: day + offset, Name: name, VisitorID: visitor, SessionID: visitor, Props: map[string]string{}})
	}
	add(1, "pageview", 10)
	add(1, "pageview", 20)
	add(2, "pageview", 30)
	add(3, "pageview", 40)
	add(3, "Signup", 50)
	add(4, "pageview", 86400+5) // next day: outside the range
	if _, err := h.DB.NewInsert().Model(&evs).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	const q = `query($site: ID!) { unitEconomics(siteId: $site, dateRange: {from: "2024-09-24", to: "2024-09-24"},
		costFilter: [{dimension: TAG, tagKey: "application", values: ["BrightPathMatrix"]}], goal: "Signup") {
		currency total { cost visitors pageviews conversions costPerVisitor costPerThousandPageviews costPerConversion }
		daily { date cost visitors } } }`
	var got struct {
		UnitEconomics struct {
			Currency string
			Total    struct {
				Cost                                     decimal.Decimal
				Visitors, Pageviews, Conversions         int64
				CostPerVisitor, CostPerThousandPageviews decimal.Decimal
				CostPerConversion                        decimal.Decimal
			}
			Daily []struct{ Date string }
		}
	}
	h.mustGQL(t, h.Admin, q, map[string]any{"site": fmt.Sprint(site.ID)}, &got)
	u := got.UnitEconomics
	if u.Currency != "USD" || !u.Total.Cost.Equal(tagged) || u.Total.Visitors != 3 || u.Total.Pageviews != 4 || u.Total.Conversions != 1 {
		t.Fatalf("unit economics %+v, want cost %s, 3 visitors, 4 pageviews, 1 conversion", u, tagged)
	}
	if !u.Total.CostPerVisitor.Equal(tagged.DivRound(decimal.NewFromInt(3), 6)) ||
		!u.Total.CostPerThousandPageviews.Equal(tagged.Mul(decimal.NewFromInt(1000)).DivRound(decimal.NewFromInt(4), 6)) ||
		!u.Total.CostPerConversion.Equal(tagged.Round(6)) {
		t.Errorf("ratios %+v for cost %s", u.Total, tagged)
	}
	if len(u.Daily) != 1 || u.Daily[0].Date != "2024-09-24" {
		t.Errorf("daily %+v", u.Daily)
	}
}

// costSourceLifecycle configures an OpenAI source against a fake of the
// Costs API, syncs it through GraphQL and checks that the key never leaves.
func costSourceLifecycle(t *testing.T, h *harness) {
	const key = "sk-admin-e2e-secret-77"
	today := time.Now().UTC().Truncate(24 * time.Hour)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/organization/costs" || r.Header.Get("Authorization") != "Bearer "+key {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"object":"page","data":[{"object":"bucket","start_time":%d,"end_time":%d,"results":[
			{"object":"organization.costs.result","amount":{"value":12.345678901234,"currency":"usd"},"line_item":"gpt-4o, output","project_id":"proj_shop"}]}],
			"has_more":false,"next_page":null}`, today.Unix(), today.Unix()+86400)
	}))
	defer fake.Close()
	var created struct{ CreateCostSource struct{ ID string } }
	h.mustGQL(t, h.Admin, `mutation($in: CreateCostSourceInput!) { createCostSource(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": "openai", "kind": "openai", "baseUrl": fake.URL, "credentials": key, "lookbackDays": 3}}, &created)
	var synced struct {
		SyncCostSource struct {
			Status       string
			RowsImported int64
		}
	}
	h.mustGQL(t, h.Admin, `mutation($id: ID!) { syncCostSource(id: $id) { status rowsImported error } }`, map[string]any{"id": created.CreateCostSource.ID}, &synced)
	if synced.SyncCostSource.Status != "ok" || synced.SyncCostSource.RowsImported != 1 {
		t.Fatalf("sync %+v", synced)
	}
	r := h.gql(t, h.Admin, `{ costSources { name hasCredentials settings lastSync { status rowsImported } } costImports(limit: 10) { kind status } }`, nil)
	if len(r.Errors) > 0 || !bytes.Contains(r.Data, []byte(`"hasCredentials":true`)) || !bytes.Contains(r.Data, []byte(`"lastSync":{"status":"ok","rowsImported":1}`)) {
		t.Errorf("costSources: %s %+v", r.Data, r.Errors)
	}
	d := today.Format(time.DateOnly)
	var c struct {
		Costs struct{ Total []struct{ BilledCost string } }
	}
	h.mustGQL(t, h.Admin, `query($d: Date!) { costs(dateRange: {from: $d, to: $d}, filters: [{dimension: PROVIDER, values: ["OpenAI"]}]) { total { billedCost } } }`, map[string]any{"d": d}, &c)
	if len(c.Costs.Total) != 1 || c.Costs.Total[0].BilledCost != "12.345678901234" {
		t.Errorf("synced total %+v, want 12.345678901234 exactly", c.Costs.Total)
	}
	if bytes.Contains(r.Data, []byte(key)) || strings.Contains(h.Logs.String(), key) {
		t.Errorf("the API key leaked into a response or the logs")
	}
	var del struct{ DeleteCostSource bool }
	h.mustGQL(t, h.Admin, `mutation($id: ID!) { deleteCostSource(id: $id) }`, map[string]any{"id": created.CreateCostSource.ID}, &del)
	if !del.DeleteCostSource {
		t.Errorf("delete returned false")
	}
}

func TestCostsDemo(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		var out bytes.Buffer
		if err := loadDemo(context.Background(), h.DB, h.Cfg, &out, true); err != nil {
			t.Fatal(err)
		}
		today := time.Now().UTC()
		vars := map[string]any{"from": today.AddDate(0, 0, -30).Format(time.DateOnly), "to": today.Format(time.DateOnly)}
		var got struct {
			Costs struct {
				Breakdown []struct{ Value string }
				Resources []struct {
					Value         string
					EffectiveCost decimal.Decimal
				}
				Anomalies []struct {
					Value, Date string
					Impact      decimal.Decimal
				}
			}
			Budgets []struct {
				Status struct{ Spent decimal.Decimal }
			}
		}
		h.mustGQL(t, h.Admin, `query($from: Date!, $to: Date!) { costs(dateRange: {from: $from, to: $to}) {
			breakdown(dimension: PROVIDER) { value } resources: breakdown(dimension: RESOURCE, limit: 3) { value effectiveCost }
			anomalies(dimension: SERVICE) { value date impact } }
			budgets { status { spent } } }`, vars, &got)
		if len(got.Costs.Breakdown) != 3 {
			t.Errorf("providers %+v, want AWS, OpenAI and Anthropic", got.Costs.Breakdown)
		}
		// A usual weekday bills the EC2 instance 38 dollars, the LLM rows
		// (which name no resource) 29 together, the database 21.
		if r := got.Costs.Resources; len(r) != 3 || !strings.Contains(r[0].Value, ":instance/") || r[1].Value != "" || !strings.Contains(r[2].Value, ":rds:") {
			t.Errorf("resources %+v, want the EC2 instance, the rows without a resource, then the database", r)
		}
		spike := today.AddDate(0, 0, -5).Format(time.DateOnly)
		found := false
		for _, a := range got.Costs.Anomalies {
			found = found || (a.Value == "gpt-4o" && a.Date == spike && a.Impact.IsPositive())
		}
		if !found {
			t.Errorf("anomalies %+v, want the gpt-4o spike on %s", got.Costs.Anomalies, spike)
		}
		if len(got.Budgets) != 1 || !got.Budgets[0].Status.Spent.IsPositive() {
			t.Errorf("budgets %+v", got.Budgets)
		}
	})
}
