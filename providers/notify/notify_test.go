package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
	"github.com/tallyhq/tally/insights"
	"github.com/tallyhq/tally/sites"
)

// fakeSlack is an incoming-webhook endpoint: it answers from a list of
// status codes (then 200 "ok", as Slack does) and records each body.
type fakeSlack struct {
	mu     sync.Mutex
	codes  []int
	bodies [][]byte
	times  []time.Time
	heads  []http.Header
}

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	n := len(f.bodies)
	f.bodies = append(f.bodies, b)
	f.times = append(f.times, time.Now())
	f.heads = append(f.heads, r.Header.Clone())
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "invalid_payload", 400)
		return
	}
	if n < len(f.codes) {
		if f.codes[n] == 429 {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(f.codes[n])
		_, _ = io.WriteString(w, "rate_limited")
		return
	}
	_, _ = io.WriteString(w, "ok")
}

func (f *fakeSlack) posts() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.bodies) }

func pct(f float64) *float64 { return &f }

func digest(n int, titleLen int) *insights.Digest {
	d := &insights.Digest{RunID: 7, Period: insights.Period{From: "2026-11-09", To: "2026-11-15", Days: 7}, Provider: "none",
		Headline: []insights.Headline{{Label: "Visitors", Value: "1234", ChangePct: pct(-12.5)}, {Label: "Spend (USD)", Value: "850.00 USD", ChangePct: pct(30.1)}},
		Link:     "https://tally.example.com/#insight-run-7"}
	for i := 0; i < n; i++ {
		d.Recommendations = append(d.Recommendations, insights.DigestItem{ID: int64(i + 1), Title: strings.Repeat("x", titleLen) + " <b>&", Category: "cost_trend",
			Impact: &insights.Money{Amount: decimal.RequireFromString("857.14"), Currency: "USD"}, Confidence: 0.6, Action: "Right-size"})
	}
	return d
}

type slackMsg struct {
	Text   string `json:"text"`
	Blocks []struct {
		Type     string `json:"type"`
		Text     *text  `json:"text"`
		Fields   []text `json:"fields"`
		Elements []struct {
			Type string `json:"type"`
			Text any    `json:"text"`
			URL  string `json:"url"`
		} `json:"elements"`
	} `json:"blocks"`
}

func TestSlackRetries429AndRendersDigest(t *testing.T) {
	f := &fakeSlack{codes: []int{429}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	s := NewSlack(srv.URL + "/services/T000/B000/XXXX")
	if err := s.Notify(context.Background(), digest(2, 10)); err != nil {
		t.Fatal(err)
	}
	if f.posts() != 2 || f.times[1].Sub(f.times[0]) < time.Second {
		t.Fatalf("posts = %d, gap %v (Retry-After: 1)", f.posts(), f.times[1].Sub(f.times[0]))
	}
	var m slackMsg
	if err := json.Unmarshal(f.bodies[1], &m); err != nil {
		t.Fatal(err)
	}
	if m.Blocks[0].Type != "header" || !strings.Contains(m.Blocks[0].Text.Text, "2026-11-09") {
		t.Fatalf("header: %+v", m.Blocks[0])
	}
	all := strings.NewReplacer(`\u0026`, "&", `\u003c`, "<", `\u003e`, ">").Replace(string(f.bodies[1]))
	for _, want := range []string{"*Visitors*", "1234", "-12.5%", "857.14 USD / month", "&lt;b&gt;&amp;", "https://tally.example.com/#insight-run-7"} {
		if !strings.Contains(all, want) {
			t.Errorf("message lacks %q: %s", want, all)
		}
	}
}

func TestSlackLimits(t *testing.T) {
	m := SlackMessage(digest(200, 5000))
	b, _ := json.Marshal(m)
	var msg slackMsg
	_ = json.Unmarshal(b, &msg)
	if len(msg.Blocks) > 50 {
		t.Fatalf("%d blocks", len(msg.Blocks))
	}
	for i, bl := range msg.Blocks {
		if bl.Text != nil && utf8.RuneCountInString(bl.Text.Text) > 3000 {
			t.Fatalf("block %d text has %d characters", i, utf8.RuneCountInString(bl.Text.Text))
		}
		if bl.Type == "header" && utf8.RuneCountInString(bl.Text.Text) > 150 {
			t.Fatal("header too long")
		}
		for _, f := range bl.Fields {
			if utf8.RuneCountInString(f.Text) > 2000 {
				t.Fatal("field too long")
			}
		}
	}
	if msg.Blocks[len(msg.Blocks)-1].Type != "actions" {
		t.Fatal("the link back was cut")
	}
}

func TestSlackErrorsDoNotLeakURL(t *testing.T) {
	f := &fakeSlack{codes: []int{404}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	err := NewSlack(srv.URL+"/services/SECRETPART").Notify(context.Background(), digest(1, 5))
	if err == nil || strings.Contains(err.Error(), "SECRETPART") || f.posts() != 1 {
		t.Fatalf("err = %v after %d posts", err, f.posts())
	}
}

func TestWebhookSignature(t *testing.T) {
	f := &fakeSlack{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	w := NewWebhook(srv.URL, "whsec_test")
	w.Now = func() time.Time { return time.Unix(1763900000, 0) }
	if err := w.Notify(context.Background(), digest(1, 5)); err != nil {
		t.Fatal(err)
	}
	h := f.heads[0]
	mac := hmac.New(sha256.New, []byte("whsec_test"))
	mac.Write([]byte("1763900000." + string(f.bodies[0])))
	if h.Get("X-Tally-Timestamp") != "1763900000" || h.Get("X-Tally-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("headers %v", h)
	}
	var body WebhookBody
	if err := json.Unmarshal(f.bodies[0], &body); err != nil || body.Type != "insights.digest" || body.Digest.RunID != 7 {
		t.Fatalf("body %s: %v", f.bodies[0], err)
	}
}

// TestFailedDeliveryIsRetriedLater: Slack is down for a run; the delivery
// is recorded as pending and goes out when the retry job runs later.
func TestFailedDeliveryIsRetriedLater(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := sites.Create(ctx, d, "shop.example.com", "UTC"); err != nil {
			t.Fatal(err)
		}
		f := &fakeSlack{codes: []int{500, 500}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		s := NewSlack(srv.URL)
		s.p.retries = 1
		s.p.maxWait = 10 * time.Millisecond
		now := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
		svc := &insights.Service{DB: d, Builder: &insights.Builder{DB: d, Traffic: insights.SQLTraffic{DB: d}}, Location: time.UTC,
			Notifiers: []insights.Notifier{s}, Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		res, err := svc.Run(ctx, insights.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		dels, _ := insights.Deliveries(ctx, d, res.Run.ID)
		if len(dels) != 1 || dels[0].Status != insights.DeliveryPending || dels[0].Attempts != 1 || !strings.Contains(dels[0].LastError, "500") {
			t.Fatalf("deliveries = %+v", dels)
		}
		// Too early: nothing is sent.
		if err := svc.RetryDeliveries(ctx); err != nil || f.posts() != 2 {
			t.Fatalf("early retry: %v, %d posts", err, f.posts())
		}
		now = now.Add(10 * time.Minute)
		if err := svc.RetryDeliveries(ctx); err != nil {
			t.Fatal(err)
		}
		dels, _ = insights.Deliveries(ctx, d, res.Run.ID)
		if f.posts() != 3 || dels[0].Status != insights.DeliveryDelivered || dels[0].Attempts != 2 {
			t.Fatalf("after retry: %d posts, %+v", f.posts(), dels[0])
		}
	})
}
