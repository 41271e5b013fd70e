package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
	"github.com/tallyhq/tally/insights"
	"github.com/tallyhq/tally/sites"
)

// chatRequest is the part of OpenAI's chat completion request the fake
// checks (https://platform.openai.com/docs/api-reference/chat/create).
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	ResponseFormat *struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Name   string         `json:"name"`
			Strict bool           `json:"strict"`
			Schema map[string]any `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
	MaxTokens int `json:"max_tokens"`
}

// fakeOpenAI is an OpenAI-compatible server answering from a script, one
// step per request, and recording every request.
type fakeOpenAI struct {
	t        *testing.T
	mu       sync.Mutex
	script   []func(w http.ResponseWriter, req chatRequest)
	requests []chatRequest
	paths    []string
	headers  []http.Header
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var req chatRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		f.t.Errorf("request is not JSON: %v", err)
	}
	f.mu.Lock()
	n := len(f.requests)
	f.requests = append(f.requests, req)
	f.paths = append(f.paths, r.URL.RequestURI())
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()
	if n >= len(f.script) {
		f.t.Errorf("unexpected request %d", n+1)
		http.Error(w, "no more script", 500)
		return
	}
	f.script[n](w, req)
}

func answer(content string) func(w http.ResponseWriter, req chatRequest) {
	return func(w http.ResponseWriter, req chatRequest) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-test", "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": content}}},
			"usage":   map[string]any{"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500},
		})
	}
}

// goodAnswer cites the account's visitors as found in the payload the
// request carried, plus one invented figure that must be flagged.
func goodAnswer(w http.ResponseWriter, req chatRequest) {
	payload := strings.TrimPrefix(req.Messages[1].Content, "Summary:\n")
	var s insights.Summary
	_ = json.Unmarshal([]byte(payload), &s)
	content := fmt.Sprintf(`{"recommendations":[{"title":"Visitors reached %v this week","category":"traffic","monthly_impact":null,"confidence":0.7,"actions":["Double the newsletter budget to win 12345 visitors"],"evidence":[{"key":"/account/traffic/visitors/current","note":"visitors"}]}]}`, s.Account.Traffic.Visitors.Current)
	answer(content)(w, req)
}

func apiError(code int, retryAfter, typ, msg string) func(w http.ResponseWriter, req chatRequest) {
	return func(w http.ResponseWriter, req chatRequest) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
	}
}

func setup(t *testing.T, d *db.DB) {
	t.Helper()
	s, err := sites.Create(context.Background(), d, "shop.example.com", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC).Unix()
	for v := int64(1); v <= 7; v++ {
		if _, err := d.NewInsert().Model(&db.Event{SiteID: s.ID, TS: ts + v, Name: "pageview", VisitorID: v, SessionID: v, Pathname: "/", Props: map[string]string{}}).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFakeServerGoodMalformedTimeout429(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		setup(t, d)
		f := &fakeOpenAI{t: t}
		f.script = []func(http.ResponseWriter, chatRequest){
			goodAnswer,                        // run 1
			answer(`{"recommendations": [ {`), // run 2: malformed ...
			goodAnswer,                        // ... repaired
			func(w http.ResponseWriter, req chatRequest) { time.Sleep(1500 * time.Millisecond); goodAnswer(w, req) }, // run 3: timeout
			apiError(429, "1", "requests", "Rate limit reached for requests"),                                        // run 4: 429 ...
			goodAnswer, // ... then fine
		}
		srv := httptest.NewServer(f)
		defer srv.Close()
		c, err := New(Config{Provider: OpenAICompatible, BaseURL: srv.URL + "/v1", APIKey: "sk-test-key", Model: "test-model", Timeout: 700 * time.Millisecond, MaxTokens: 900})
		if err != nil {
			t.Fatal(err)
		}
		svc := &insights.Service{DB: d, Builder: &insights.Builder{DB: d, Traffic: insights.SQLTraffic{DB: d}}, LLM: c, Location: time.UTC,
			Pricing: &insights.Pricing{InputPerMillion: decimal.RequireFromString("0.15"), OutputPerMillion: decimal.RequireFromString("0.60"), Currency: "USD"},
			Log:     slog.New(slog.NewTextHandler(io.Discard, nil))}
		opts := insights.RunOptions{From: time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)}

		// 1: good output.
		res, err := svc.Run(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Run.Status != insights.RunSucceeded || len(res.Recommendations) != 1 || res.Run.Model != "test-model" {
			t.Fatalf("run 1: %+v", res.Run)
		}
		r := res.Recommendations[0]
		if r.Title != "Visitors reached 7 this week" || len(r.Unverified) != 1 || r.Unverified[0] != "12345" {
			t.Fatalf("run 1 recommendation: %q unverified %v", r.Title, r.Unverified)
		}
		// 1200 prompt tokens at 0.15/M + 300 at 0.60/M = 0.00018 + 0.00018.
		if res.Run.PromptTokens != 1200 || res.Run.CompletionTokens != 300 || !res.Run.Cost.Decimal.Equal(decimal.RequireFromString("0.00036")) {
			t.Fatalf("run 1 usage: %d %d %v", res.Run.PromptTokens, res.Run.CompletionTokens, res.Run.Cost)
		}
		req := f.requests[0]
		if req.Model != "test-model" || len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" ||
			req.Messages[1].Content != "Summary:\n"+string(res.Payload) || req.MaxTokens != 900 {
			t.Fatalf("request 1: %+v", req)
		}
		if rf := req.ResponseFormat; rf == nil || rf.Type != "json_schema" || rf.JSONSchema == nil || !rf.JSONSchema.Strict ||
			rf.JSONSchema.Name != "insights_recommendations" || rf.JSONSchema.Schema["properties"] == nil {
			t.Fatalf("response_format: %+v", req.ResponseFormat)
		}
		if f.paths[0] != "/v1/chat/completions" || f.headers[0].Get("Authorization") != "Bearer sk-test-key" {
			t.Fatalf("path %s auth %q", f.paths[0], f.headers[0].Get("Authorization"))
		}
		var prompt []insights.Message
		if err := json.Unmarshal([]byte(res.Run.Prompt), &prompt); err != nil || len(prompt) != 2 || prompt[1].Content != req.Messages[1].Content {
			t.Fatalf("stored prompt: %v %s", err, res.Run.Prompt)
		}

		// 2: malformed JSON, one repair attempt that shows the model its answer.
		res, err = svc.Run(ctx, opts)
		if err != nil || res.Run.Status != insights.RunSucceeded {
			t.Fatalf("run 2: %v %+v", err, res.Run)
		}
		rep := f.requests[2]
		if len(rep.Messages) != 4 || rep.Messages[2].Role != "assistant" || rep.Messages[2].Content != `{"recommendations": [ {` ||
			!strings.Contains(rep.Messages[3].Content, "invalid") {
			t.Fatalf("repair request: %+v", rep.Messages)
		}
		if res.Recommendations[0].TimesSeen != 2 {
			t.Fatalf("same recommendation not merged: %+v", res.Recommendations[0])
		}

		// 3: the server is slower than TALLY_LLM_TIMEOUT: the run fails and says so.
		res, err = svc.Run(ctx, opts)
		if err == nil || res.Run.Status != insights.RunFailed || !strings.Contains(res.Run.Error, "TALLY_LLM_TIMEOUT") {
			t.Fatalf("run 3: %v %+v", err, res.Run)
		}
		stored, _ := insights.RunByID(ctx, d, res.Run.ID)
		if stored.Status != insights.RunFailed || stored.Payload == "" || stored.Error == "" {
			t.Fatalf("failed run not recorded: %+v", stored)
		}

		// 4: 429 with Retry-After: 1, then an answer.
		start := time.Now()
		c.cfg.Timeout = 5 * time.Second
		res, err = svc.Run(ctx, opts)
		if err != nil || res.Run.Status != insights.RunSucceeded {
			t.Fatalf("run 4: %v %+v", err, res.Run)
		}
		if el := time.Since(start); el < time.Second {
			t.Fatalf("Retry-After not honoured: retried after %v", el)
		}
		if res.Run.Attempts != 2 {
			t.Fatalf("attempts = %d, want 2", res.Run.Attempts)
		}
		if len(f.requests) != 6 {
			t.Fatalf("%d requests", len(f.requests))
		}
		// The API key never lands in a stored run.
		runs, _ := insights.Runs(ctx, d, 10)
		for _, run := range runs {
			b, _ := json.Marshal(run)
			if strings.Contains(string(b), "sk-test-key") {
				t.Fatal("API key stored in a run")
			}
		}
	})
}

// TestFallbackToJSONMode: a server that rejects json_schema gets JSON mode
// with the schema in the system message, and is remembered as such.
func TestFallbackToJSONMode(t *testing.T) {
	f := &fakeOpenAI{t: t}
	f.script = []func(http.ResponseWriter, chatRequest){
		apiError(400, "", "invalid_request_error", "response_format json_schema is not supported by this model"),
		answer(`{"recommendations":[]}`),
		answer(`{"recommendations":[]}`),
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := New(Config{Provider: OpenAICompatible, BaseURL: srv.URL, Model: "llama3.1", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	comp := insights.Completion{Messages: insights.Prompt([]byte(`{"version":"x"}`)), SchemaName: "s", Schema: insights.ResponseSchema()}
	for i := 0; i < 2; i++ {
		res, err := c.Complete(context.Background(), comp)
		if err != nil || res.Mode != "json_object" || res.Content != `{"recommendations":[]}` {
			t.Fatalf("call %d: %v %+v", i, err, res)
		}
	}
	if f.requests[0].ResponseFormat.Type != "json_schema" || f.requests[1].ResponseFormat.Type != "json_object" || f.requests[2].ResponseFormat.Type != "json_object" {
		t.Fatalf("formats: %s %s %s", f.requests[0].ResponseFormat.Type, f.requests[1].ResponseFormat.Type, f.requests[2].ResponseFormat.Type)
	}
	if !strings.Contains(f.requests[1].Messages[0].Content, `"recommendations"`) {
		t.Fatal("JSON mode request lacks the schema")
	}
}

// TestAzure checks the Azure OpenAI request shape: deployment in the path,
// api-version in the query, the key in the api-key header.
func TestAzure(t *testing.T) {
	f := &fakeOpenAI{t: t}
	f.script = []func(http.ResponseWriter, chatRequest){answer(`{"recommendations":[]}`)}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := New(Config{Provider: Azure, BaseURL: srv.URL, APIKey: "azure-key", Model: "gpt-4o-mini-prod", APIVersion: "2024-10-21", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Complete(context.Background(), insights.Completion{Messages: insights.Prompt([]byte(`{}`)), SchemaName: "s", Schema: insights.ResponseSchema()}); err != nil {
		t.Fatal(err)
	}
	if f.paths[0] != "/openai/deployments/gpt-4o-mini-prod/chat/completions?api-version=2024-10-21" || f.headers[0].Get("api-key") != "azure-key" {
		t.Fatalf("azure request: %s api-key=%q", f.paths[0], f.headers[0].Get("api-key"))
	}
}

func TestBackoff(t *testing.T) {
	cases := []struct {
		attempt    int
		retryAfter string
		lo, hi     time.Duration
	}{
		{0, "3", 3 * time.Second, 3 * time.Second},
		{0, "120", 60 * time.Second, 60 * time.Second},
		{0, "", 500 * time.Millisecond, 625 * time.Millisecond},
		{2, "", 2 * time.Second, 2500 * time.Millisecond},
		{0, time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat), 3 * time.Second, 5 * time.Second},
	}
	for _, c := range cases {
		got := backoff(c.attempt, c.retryAfter, time.Minute)
		if got < c.lo || got > c.hi {
			t.Errorf("backoff(%d, %q) = %v, want %v..%v", c.attempt, c.retryAfter, got, c.lo, c.hi)
		}
	}
}
