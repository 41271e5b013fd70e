package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tallyhq/tally/insights"
)

// Webhook posts the digest as JSON to any URL. With a secret, each request
// carries X-Tally-Timestamp and X-Tally-Signature: "sha256=" and the hex
// HMAC-SHA256 of "<timestamp>.<body>" under the secret, so receivers can
// check origin and reject replays.
type Webhook struct {
	URL, Secret string
	Now         func() time.Time
	p           poster
}

// NewWebhook returns a webhook notifier.
func NewWebhook(url, secret string) *Webhook {
	return &Webhook{URL: url, Secret: secret, Now: time.Now, p: newPoster()}
}

// Name is "webhook".
func (w *Webhook) Name() string { return "webhook" }

// WebhookBody is what the webhook receives.
type WebhookBody struct {
	Type   string           `json:"type"`
	Digest *insights.Digest `json:"digest"`
}

// Notify posts the digest.
func (w *Webhook) Notify(ctx context.Context, d *insights.Digest) error {
	body, err := json.Marshal(WebhookBody{Type: "insights.digest", Digest: d})
	if err != nil {
		return fmt.Errorf("webhook: encode: %w", err)
	}
	return w.p.post(ctx, "webhook", w.URL, body, func(h http.Header) {
		if w.Secret == "" {
			return
		}
		ts := strconv.FormatInt(w.Now().Unix(), 10)
		h.Set("X-Tally-Timestamp", ts)
		h.Set("X-Tally-Signature", "sha256="+Sign(w.Secret, ts, body))
	})
}

// Sign returns the hex HMAC-SHA256 of "<timestamp>.<body>".
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
