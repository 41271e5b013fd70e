// Package notify implements insights.Notifier: a Slack digest through an
// incoming webhook (Block Kit) and a generic JSON webhook signed with
// HMAC-SHA256. Both retry 429 and 5xx answers, honouring Retry-After;
// a delivery that still fails is returned as an error, which the insights
// service records and retries later.
package notify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// poster sends a JSON body with retries.
type poster struct {
	client  *http.Client
	retries int
	maxWait time.Duration
}

func newPoster() poster {
	return poster{client: &http.Client{Timeout: 30 * time.Second}, retries: 3, maxWait: 30 * time.Second}
}

// post sends body; headers is called per attempt so signatures stay fresh.
// The URL is never put in errors: webhook URLs are secrets.
func (p poster) post(ctx context.Context, name, url string, body []byte, headers func(h http.Header)) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("%s: bad webhook URL", name)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Tally-Insights/1")
		if headers != nil {
			headers(req.Header)
		}
		resp, err := p.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", name, ctx.Err())
			}
			return fmt.Errorf("%s: request failed (connection or timeout)", name)
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close()
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return nil
		}
		if (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500) || attempt >= p.retries {
			return fmt.Errorf("%s: HTTP %d: %s", name, resp.StatusCode, strings.TrimSpace(string(msg)))
		}
		wait := time.Second << attempt
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			wait = time.Duration(s) * time.Second
		}
		wait = min(wait, p.maxWait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", name, ctx.Err())
		}
	}
}
