package costsrc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client is a small JSON-over-HTTP client with retries.
type Client struct {
	HTTP *http.Client
	// Attempts is the number of tries per request (default 5).
	Attempts int
	// BaseDelay is the first backoff (default 1s); it doubles per retry,
	// with jitter, up to MaxDelay (default 30s). Retry-After wins when the
	// server sends it (capped at MaxDelay).
	BaseDelay, MaxDelay time.Duration
}

// DefaultClient is used by the providers unless a test swaps it.
var DefaultClient = &Client{HTTP: &http.Client{Timeout: 60 * time.Second}}

// StatusError is a non-2xx answer, without the request's credentials.
type StatusError struct {
	Status int
	URL    string
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d: %s", e.URL, e.Status, e.Body)
}

func (c *Client) attempts() int {
	if c.Attempts > 0 {
		return c.Attempts
	}
	return 5
}

func (c *Client) delay(try int, retryAfter string) time.Duration {
	maxD := c.MaxDelay
	if maxD == 0 {
		maxD = 30 * time.Second
	}
	if retryAfter != "" {
		if s, err := strconv.Atoi(strings.TrimSpace(retryAfter)); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, maxD)
		}
		if t, err := http.ParseTime(retryAfter); err == nil {
			return min(max(time.Until(t), 0), maxD)
		}
	}
	base := c.BaseDelay
	if base == 0 {
		base = time.Second
	}
	d := base << try
	d += time.Duration(rand.Int64N(int64(d)/2 + 1)) // jitter
	return min(d, maxD)
}

// GetJSON fetches u with the given headers and decodes the JSON answer into
// v (numbers as json.Number, so that amounts stay exact).
func (c *Client) GetJSON(ctx context.Context, u string, header http.Header, v any) error {
	shown := redactURL(u)
	for try := 0; ; try++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return fmt.Errorf("GET %s: %w", shown, err)
		}
		for k, vs := range header {
			req.Header[k] = vs
		}
		req.Header.Set("Accept", "application/json")
		res, err := c.HTTP.Do(req)
		if err != nil {
			if ctx.Err() != nil || try+1 >= c.attempts() {
				return fmt.Errorf("GET %s: %w", shown, scrubErr(err, u, shown))
			}
			if err := sleep(ctx, c.delay(try, "")); err != nil {
				return err
			}
			continue
		}
		body, rerr := io.ReadAll(io.LimitReader(res.Body, 64<<20))
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 {
			if try+1 >= c.attempts() {
				return &StatusError{Status: res.StatusCode, URL: shown, Body: clip(string(body))}
			}
			if err := sleep(ctx, c.delay(try, res.Header.Get("Retry-After"))); err != nil {
				return err
			}
			continue
		}
		if res.StatusCode/100 != 2 {
			return &StatusError{Status: res.StatusCode, URL: shown, Body: clip(string(body))}
		}
		if rerr != nil {
			return fmt.Errorf("GET %s: %w", shown, rerr)
		}
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("GET %s: unexpected answer: %w", shown, err)
		}
		return nil
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// redactURL drops the query string, which may carry a key on some APIs.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(invalid URL)"
	}
	p.RawQuery, p.User = "", nil
	return p.String()
}

func scrubErr(err error, full, shown string) error {
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), full, shown))
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func baseURL(configured, def string) (string, error) {
	u := strings.TrimSuffix(configured, "/")
	if u == "" {
		u = def
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "", fmt.Errorf("baseUrl %q is not an http(s) URL", configured)
	}
	return u, nil
}
