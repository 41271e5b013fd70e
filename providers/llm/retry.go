package llm

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

type attemptsKey struct{}

// retryTransport retries 429 and 5xx answers. It waits for Retry-After
// (seconds or an HTTP date) when the server sends it, otherwise an
// exponential backoff with jitter, never longer than maxWait nor past the
// request's deadline.
type retryTransport struct {
	next    http.RoundTripper
	max     int
	maxWait time.Duration
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	counter, _ := req.Context().Value(attemptsKey{}).(*atomic.Int64)
	for attempt := 0; ; attempt++ {
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		if counter != nil {
			counter.Add(1)
		}
		resp, err := t.next.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		if !retryable(resp.StatusCode) || attempt >= t.max {
			return resp, nil
		}
		wait := backoff(attempt, resp.Header.Get("Retry-After"), t.maxWait)
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		_ = resp.Body.Close()
		if dl, ok := req.Context().Deadline(); ok && time.Until(dl) < wait {
			return nil, context.DeadlineExceeded
		}
		select {
		case <-time.After(wait):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
}

func retryable(code int) bool { return code == http.StatusTooManyRequests || code >= 500 }

// backoff is Retry-After when given, else 0.5s, 1s, 2s... with jitter.
func backoff(attempt int, retryAfter string, maxWait time.Duration) time.Duration {
	if retryAfter != "" {
		if s, err := strconv.Atoi(retryAfter); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, maxWait)
		}
		if at, err := http.ParseTime(retryAfter); err == nil {
			return min(max(time.Until(at), 0), maxWait)
		}
	}
	d := 500 * time.Millisecond << attempt
	d += time.Duration(rand.Int64N(int64(d) / 4))
	return min(d, maxWait)
}
