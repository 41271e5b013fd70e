package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
	"github.com/tallyhq/tally/insights"
	"github.com/tallyhq/tally/resolvers"
)

const runFields = `id trigger status provider model periodFrom periodTo payload payloadText prompt response promptTokens completionTokens cost { amount currency } durationMs error
	recommendations { id title category monthlyImpact { amount currency } confidence actions evidence { key value } unverified status timesSeen }
	deliveries { notifier status attempts }`

type gqlRun struct {
	ID, Trigger, Status, Provider, PeriodFrom, PeriodTo, PayloadText string
	Payload                                                          json.RawMessage
	DurationMs                                                       int
	Recommendations                                                  []gqlRec
	Deliveries                                                       []struct{ Notifier, Status string }
}

type gqlRec struct {
	ID, Title, Category, Status string
	MonthlyImpact               *struct{ Amount, Currency string }
	Evidence                    []struct {
		Key   string
		Value json.RawMessage
	}
	Unverified []string
	TimesSeen  int
}

func TestInsightsOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		if err := loadDemo(ctx, h.DB, h.Cfg, io.Discard, true); err != nil {
			t.Fatal(err)
		}
		// Account-wide data: no token, and a site-scoped token, are refused.
		if r := h.gql(t, "", `{ insightRuns { id } }`, nil); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("no token: %+v", r.Errors)
		}
		var site struct{ Sites []struct{ ID string } }
		h.mustGQL(t, h.Admin, `{ sites { id } }`, nil, &site)
		var tok struct {
			CreateAPIToken struct{ Secret string } `json:"createApiToken"`
		}
		h.mustGQL(t, h.Admin, `mutation($s: ID!) { createApiToken(input: {name: "r", scope: READ, siteId: $s}) { secret } }`, map[string]any{"s": site.Sites[0].ID}, &tok)
		for _, q := range []string{`{ insightRuns { id } }`, `{ insights { id } }`, `{ jobRuns { id } }`, `mutation { runInsights(dryRun: true) { dryRun } }`} {
			if r := h.gql(t, tok.CreateAPIToken.Secret, q, nil); r.code() != "FORBIDDEN" {
				t.Fatalf("read token %s: %+v", q, r.Errors)
			}
		}

		// The demo stored one built-in-rules run.
		var runs struct{ InsightRuns []gqlRun }
		h.mustGQL(t, h.Admin, `{ insightRuns { `+runFields+` } }`, nil, &runs)
		if len(runs.InsightRuns) != 1 || runs.InsightRuns[0].Trigger != "demo" || runs.InsightRuns[0].Provider != "none" || runs.InsightRuns[0].Status != "succeeded" {
			t.Fatalf("demo runs = %+v", runs.InsightRuns)
		}

		// A dry run returns the payload and stores nothing.
		vars := map[string]any{"from": "2026-11-09", "to": "2026-11-15"}
		var dry struct {
			RunInsights struct {
				DryRun  bool
				Payload insights.Summary
				Run     *gqlRun
			}
		}
		h.mustGQL(t, h.Admin, `mutation($from: Date, $to: Date) { runInsights(dryRun: true, from: $from, to: $to) { dryRun payload run { id } } }`, vars, &dry)
		if !dry.RunInsights.DryRun || dry.RunInsights.Run != nil || dry.RunInsights.Payload.Version != insights.SummaryVersion ||
			dry.RunInsights.Payload.Period.From != "2026-11-09" || dry.RunInsights.Payload.Account.Sites != 2 {
			t.Fatalf("dry run = %+v", dry.RunInsights)
		}
		h.mustGQL(t, h.Admin, `{ insightRuns { id } }`, nil, &runs)
		if len(runs.InsightRuns) != 1 {
			t.Fatalf("dry run stored a run: %d", len(runs.InsightRuns))
		}

		// A real run over the demo's default period: stored with its exact payload.
		var real struct {
			RunInsights struct {
				Payload json.RawMessage
				Run     gqlRun
			}
		}
		h.mustGQL(t, h.Admin, `mutation { runInsights { payload run { `+runFields+` } } }`, nil, &real)
		run := real.RunInsights.Run
		if run.Status != "succeeded" || run.Trigger != "manual" || run.PayloadText == "" {
			t.Fatalf("run = %+v", run)
		}
		if string(real.RunInsights.Payload) != run.PayloadText || string(run.Payload) != run.PayloadText {
			t.Fatalf("payload differs from the stored text:\n%s\n%s", real.RunInsights.Payload, run.PayloadText)
		}
		if len(run.Recommendations) == 0 {
			t.Fatal("no recommendations from the demo data")
		}
		rec := run.Recommendations[0]
		if rec.TimesSeen != 2 || len(rec.Unverified) != 0 || len(rec.Evidence) == 0 || rec.Evidence[0].Value == nil {
			t.Fatalf("recommendation = %+v", rec)
		}

		// Dismiss it; the filter sees it.
		var upd struct{ UpdateRecommendation gqlRec }
		h.mustGQL(t, h.Admin, `mutation($id: ID!) { updateRecommendation(id: $id, status: DISMISSED) { id status } }`, map[string]any{"id": rec.ID}, &upd)
		if upd.UpdateRecommendation.Status != "DISMISSED" {
			t.Fatalf("update = %+v", upd)
		}
		var list struct{ Insights []gqlRec }
		h.mustGQL(t, h.Admin, `{ insights(status: DISMISSED) { id } }`, nil, &list)
		if len(list.Insights) != 1 || list.Insights[0].ID != rec.ID {
			t.Fatalf("dismissed = %+v", list.Insights)
		}
		if r := h.gql(t, h.Admin, `mutation { updateRecommendation(id: "999999", status: DONE) { id } }`, nil); r.code() != "NOT_FOUND" {
			t.Fatalf("unknown id: %+v", r.Errors)
		}
		if r := h.gql(t, h.Admin, `mutation { runInsights(from: "2026-11-15", to: "2026-11-01") { dryRun } }`, nil); r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "to") {
			t.Fatalf("from after to: %+v", r.Errors)
		}
		if r := h.gql(t, h.Admin, `mutation { runInsights(from: "2026-11-15") { dryRun } }`, nil); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("from without to: %+v", r.Errors)
		}
	})
}

// TestInsightCreatedSubscription follows a run over graphql-transport-ws:
// one started on the same server, and one started on another server
// sharing the database.
func TestInsightCreatedSubscription(t *testing.T) {
	old := insights.PollInterval
	insights.PollInterval = 200 * time.Millisecond
	defer func() { insights.PollInterval = old }()
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		h := startHarness(t, url, nil)
		other := startHarness(t, url, nil)
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(h.URL, "http")+"/graphql", http.Header{"Sec-WebSocket-Protocol": {"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		send := func(v any) {
			if err := ws.WriteJSON(v); err != nil {
				t.Fatal(err)
			}
		}
		read := func() map[string]any {
			_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			var m map[string]any
			if err := ws.ReadJSON(&m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + h.Admin}})
		if m := read(); m["type"] != "connection_ack" {
			t.Fatalf("init: %v", m)
		}
		send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription { insightCreated { id status provider } }"}})
		time.Sleep(200 * time.Millisecond) // let the subscription register
		for _, server := range []*harness{h, other} {
			var res struct {
				RunInsights struct{ Run struct{ ID string } }
			}
			server.mustGQL(t, server.Admin, `mutation { runInsights { run { id } } }`, nil, &res)
			for {
				m := read()
				if m["type"] == "ping" {
					send(map[string]any{"type": "pong"})
					continue
				}
				if m["type"] != "next" {
					t.Fatalf("message: %v", m)
				}
				got := m["payload"].(map[string]any)["data"].(map[string]any)["insightCreated"].(map[string]any)
				if got["id"] != res.RunInsights.Run.ID || got["status"] != "succeeded" {
					t.Fatalf("insightCreated = %v, want run %s", got, res.RunInsights.Run.ID)
				}
				break
			}
		}
	})
}

// TestScheduledDigestOncePerTick: two server instances on one database, a
// fake Slack; the weekly tick fires on both and Slack gets exactly one
// digest holding the headline figures and the recommendations.
func TestScheduledDigestOncePerTick(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		ctx := context.Background()
		var mu sync.Mutex
		var posts [][]byte
		slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			posts = append(posts, b)
			mu.Unlock()
			_, _ = io.WriteString(w, "ok")
		}))
		defer slack.Close()
		var hooks [][]byte
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mac := hmac.New(sha256.New, []byte("whsec_e2e"))
			mac.Write([]byte(r.Header.Get("X-Tally-Timestamp") + "." + string(b)))
			if r.Header.Get("X-Tally-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
				http.Error(w, "bad signature", 401)
				return
			}
			mu.Lock()
			hooks = append(hooks, b)
			mu.Unlock()
		}))
		defer hook.Close()
		env := map[string]string{"TALLY_SLACK_WEBHOOK_URL": slack.URL + "/services/T/B/X", "TALLY_PUBLIC_URL": "https://tally.example.com",
			"TALLY_WEBHOOK_URL": hook.URL, "TALLY_WEBHOOK_SECRET": "whsec_e2e"}
		h1 := startHarness(t, url, env)
		h2 := startHarness(t, url, env)
		if err := loadDemo(ctx, h1.DB, h1.Cfg, io.Discard, true); err != nil {
			t.Fatal(err)
		}
		if len(posts) != 0 {
			t.Fatal("the demo posted to Slack")
		}
		for week := range 2 {
			tick := time.Date(2026, 11, 16+7*week, 9, 0, 0, 0, time.UTC)
			var wg sync.WaitGroup
			ran := make([]bool, 2)
			for i, h := range []*harness{h1, h2} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := h.app.scheduler.Tick(ctx, "insights", tick)
					if err != nil {
						t.Error(err)
					}
					ran[i] = ok
				}()
			}
			wg.Wait()
			if ran[0] == ran[1] {
				t.Fatalf("week %d: ran = %v, want exactly one", week, ran)
			}
			mu.Lock()
			n, nh := len(posts), len(hooks)
			mu.Unlock()
			if n != week+1 || nh != week+1 {
				t.Fatalf("week %d: %d Slack posts, %d signed webhook posts", week, n, nh)
			}
		}
		// The digest carries the headline figures and the top recommendation of the stored run.
		var runs struct{ InsightRuns []gqlRun }
		h2.mustGQL(t, h2.Admin, `{ insightRuns(limit: 1) { `+runFields+` } }`, nil, &runs)
		last := runs.InsightRuns[0]
		var sum insights.Summary
		_ = json.Unmarshal([]byte(last.PayloadText), &sum)
		body := strings.NewReplacer(`\u0026`, "&", `\u003c`, "<", `\u003e`, ">").Replace(string(posts[1]))
		visitors := strings.TrimSuffix(strings.TrimSuffix(json.Number(jsonNum(sum.Account.Traffic.Visitors.Current)).String(), ".0"), ".")
		for _, want := range []string{"*Visitors*\\n" + visitors, "*Spend (USD)*", "USD / month", last.Recommendations[0].Title, "https://tally.example.com/#insight-run-" + last.ID, "built-in rules"} {
			if !strings.Contains(body, strings.ReplaceAll(want, `"`, `\"`)) {
				t.Errorf("Slack post lacks %q:\n%s", want, body)
			}
		}
		var hb struct {
			Type   string
			Digest insights.Digest
		}
		if err := json.Unmarshal(hooks[1], &hb); err != nil || hb.Type != "insights.digest" || strconv.FormatInt(hb.Digest.RunID, 10) != last.ID || len(hb.Digest.Recommendations) == 0 {
			t.Fatalf("webhook body %s: %v", hooks[1], err)
		}
		if last.Trigger != "schedule" || len(last.Deliveries) != 2 || last.Deliveries[0].Status != "delivered" || last.Deliveries[1].Status != "delivered" {
			t.Fatalf("run = %+v", last)
		}
		// Metrics: across both replicas, two runs and two skipped ticks.
		metric := func(series string) float64 {
			var total float64
			for _, h := range []*harness{h1, h2} {
				res, err := http.Get(h.URL + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				for _, line := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(line, series+" "); ok {
						f, _ := strconv.ParseFloat(v, 64)
						total += f
					}
				}
			}
			return total
		}
		if n := metric(`tally_insights_runs_total{provider="none",status="succeeded"}`); n != 2 {
			t.Errorf("insights runs metric = %v", n)
		}
		if n := metric(`tally_job_runs_total{job="insights",result="skipped"}`); n != 2 {
			t.Errorf("skipped ticks metric = %v", n)
		}
		if n := metric(`tally_insights_deliveries_total{notifier="slack",result="delivered"}`); n != 2 {
			t.Errorf("deliveries metric = %v", n)
		}
		var jobs struct {
			JobRuns []struct{ Job, Status, Tick, Instance string }
		}
		h1.mustGQL(t, h1.Admin, `{ jobRuns(job: "insights") { job status tick instance } }`, nil, &jobs)
		if len(jobs.JobRuns) != 2 || jobs.JobRuns[0].Status != "succeeded" || !strings.HasPrefix(jobs.JobRuns[0].Tick, "2026-11-23T09:00:00") {
			t.Fatalf("jobRuns = %+v", jobs.JobRuns)
		}
	})
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// TestInsightsWithLLMOverHTTP configures an OpenAI-compatible provider (a
// local fake) through the environment, runs insights over GraphQL and reads
// back the stored prompt, answer, tokens and cost.
func TestInsightsWithLLMOverHTTP(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		var mu sync.Mutex
		var bodies []map[string]any
		fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			mu.Lock()
			bodies = append(bodies, body)
			mu.Unlock()
			if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-e2e" {
				http.Error(w, `{"error":{"message":"bad path or key","type":"invalid_request_error"}}`, 401)
				return
			}
			content := `{"recommendations":[{"title":"Review the pricing page","category":"traffic","monthly_impact":null,"confidence":0.5,"actions":["Compare the pricing page with last week"],"evidence":[{"key":"/account/traffic/visitors/current","note":""}]}]}`
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-e2e", "object": "chat.completion", "created": 1, "model": "llama3.1:8b",
				"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": content}}},
				"usage":   map[string]any{"prompt_tokens": 2000, "completion_tokens": 100, "total_tokens": 2100}})
		}))
		defer fake.Close()
		h := startHarness(t, url, map[string]string{"TALLY_LLM_PROVIDER": "openai-compatible", "TALLY_LLM_BASE_URL": fake.URL + "/v1",
			"TALLY_LLM_API_KEY": "sk-e2e", "TALLY_LLM_MODEL": "llama3.1:8b", "TALLY_LLM_PRICE_INPUT": "0.5", "TALLY_LLM_PRICE_OUTPUT": "1.5"})
		if err := loadDemo(context.Background(), h.DB, h.Cfg, io.Discard, true); err != nil {
			t.Fatal(err)
		}
		if len(bodies) != 0 {
			t.Fatal("the demo called the LLM")
		}
		var res struct {
			RunInsights struct {
				Run struct {
					gqlRun
					Model, Prompt, Response string
					PromptTokens            int
					CompletionTokens        int
					Cost                    struct{ Amount, Currency string }
				}
			}
		}
		h.mustGQL(t, h.Admin, `mutation { runInsights { run { `+runFields+` model } } }`, nil, &res)
		run := res.RunInsights.Run
		if run.Status != "succeeded" || run.Provider != "openai-compatible" || run.Model != "llama3.1:8b" || run.PromptTokens != 2000 || run.CompletionTokens != 100 {
			t.Fatalf("run = %+v", run)
		}
		// 2000 * 0.5 / 1e6 + 100 * 1.5 / 1e6 = 0.00115 USD
		if run.Cost.Amount != "0.00115" || run.Cost.Currency != "USD" {
			t.Fatalf("cost = %+v", run.Cost)
		}
		if !strings.Contains(run.Response, "Review the pricing page") || len(run.Recommendations) != 1 || run.Recommendations[0].Title != "Review the pricing page" {
			t.Fatalf("response/recommendations: %s %+v", run.Response, run.Recommendations)
		}
		msgs := bodies[0]["messages"].([]any)
		user := msgs[1].(map[string]any)["content"].(string)
		if user != "Summary:\n"+run.PayloadText || !strings.Contains(run.Prompt, strings.ReplaceAll(run.PayloadText[:40], `"`, `\"`)) {
			t.Fatalf("the payload sent differs from the stored one")
		}
		if rf := bodies[0]["response_format"].(map[string]any); rf["type"] != "json_schema" {
			t.Fatalf("response_format = %v", rf)
		}
		// The API key is in no response.
		r := h.gql(t, h.Admin, `{ insightRuns { `+runFields+` } }`, nil)
		if strings.Contains(string(r.Data), "sk-e2e") {
			t.Fatal("API key in a GraphQL answer")
		}
	})
}

// TestSlowLLMRunAnswersRunning: when the LLM takes longer than the mutation
// waits, runInsights answers with the run still running; the run finishes
// in the background and insightRun shows it.
func TestSlowLLMRunAnswersRunning(t *testing.T) {
	old := resolvers.RunWait
	resolvers.RunWait = 300 * time.Millisecond
	defer func() { resolvers.RunWait = old }()
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(1500 * time.Millisecond)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"slow","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"recommendations\":[]}"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
		}))
		defer fake.Close()
		h := startHarness(t, url, map[string]string{"TALLY_LLM_PROVIDER": "openai-compatible", "TALLY_LLM_BASE_URL": fake.URL, "TALLY_LLM_MODEL": "slow"})
		var res struct {
			RunInsights struct{ Run struct{ ID, Status string } }
		}
		h.mustGQL(t, h.Admin, `mutation { runInsights { run { id status } } }`, nil, &res)
		if res.RunInsights.Run.Status != "running" {
			t.Fatalf("run = %+v, want running", res.RunInsights.Run)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			var one struct{ InsightRun struct{ Status string } }
			h.mustGQL(t, h.Admin, `query($id: ID!) { insightRun(id: $id) { status } }`, map[string]any{"id": res.RunInsights.Run.ID}, &one)
			if one.InsightRun.Status == "succeeded" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run still %s", one.InsightRun.Status)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
