package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// awaitOK polls url until it answers 200, at most for wait.
func awaitOK(url string, wait time.Duration) bool {
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return true
			}
		}
	}
	return false
}

func TestServeStartsAndStopsCleanly(t *testing.T) {
	addr := freeAddr(t)
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "serve.db")
	t.Setenv("TALLY_ADMIN_TOKEN", "")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--addr", addr, "--database-url", dbURL}, &stdout, &stderr)
	}()

	// /healthz answers at once; /readyz waits for the demo data (tens of
	// seconds under the race detector).
	if !awaitOK("http://"+addr+"/healthz", 30*time.Second) {
		cancel()
		t.Fatalf("server did not answer /healthz: %s", stderr.String())
	}
	if !awaitOK("http://"+addr+"/readyz", 180*time.Second) {
		cancel()
		t.Fatalf("server never became ready: %s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "tly_") {
		t.Fatalf("first start did not print an admin token: %q", stdout.String())
	}
	// The printed token works.
	var secret string
	for _, f := range strings.Fields(stdout.String()) {
		if strings.HasPrefix(f, "tly_") {
			secret = f
		}
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/graphql", strings.NewReader(`{"query":"{ sites { domain } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(res.Body)
	res.Body.Close()
	if !strings.Contains(body.String(), "shop.example.com") {
		t.Fatalf("demo sites missing: %s", body.String())
	}
	if strings.Contains(stderr.String(), secret) {
		t.Fatal("the admin secret was logged")
	}

	cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after the signal")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Fatalf("no shutdown log: %s", stderr.String())
	}

	// A second start prints no new token.
	ctx2, cancel2 := context.WithCancel(context.Background())
	var out2 syncBuffer
	go func() { done <- run(ctx2, []string{"serve", "--addr", addr, "--database-url", dbURL}, &out2, &stderr) }()
	time.Sleep(300 * time.Millisecond)
	if !awaitOK("http://"+addr+"/healthz", 30*time.Second) {
		cancel2()
		t.Fatalf("second start did not answer /healthz: %s", stderr.String())
	}
	cancel2()
	<-done
	if strings.Contains(out2.String(), "tly_") {
		t.Fatalf("second start printed a token again: %q", out2.String())
	}
}

func TestServeRejectsBadConfiguration(t *testing.T) {
	cases := []struct {
		env           map[string]string
		want, mustNot string
	}{
		{map[string]string{"TALLY_INSIGHTS_SCHEDULE": "61 * * * *"}, "TALLY_INSIGHTS_SCHEDULE", ""},
		{map[string]string{"TALLY_DATABASE_URL": "postgres://alice:pa55word@127.0.0.1:1/x?connect_timeout=2"}, "127.0.0.1:1", "pa55word"},
		{map[string]string{"TALLY_DATABASE_URL": "mongodb://x"}, "TALLY_DATABASE_URL", ""},
	}
	for _, c := range cases {
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		var out, errb syncBuffer
		code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, &out, &errb)
		if code == 0 {
			t.Fatalf("%v: serve started", c.env)
		}
		if !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: message %q does not name %q", c.env, errb.String(), c.want)
		}
		if c.mustNot != "" && strings.Contains(errb.String()+out.String(), c.mustNot) {
			t.Errorf("%v: output leaks %q", c.env, c.mustNot)
		}
		for k := range c.env {
			t.Setenv(k, "")
		}
	}
}
