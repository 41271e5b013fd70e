package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// cmdHealthcheck asks a running server whether it is healthy. It exists for
// container images without a shell or curl (the Dockerfile's HEALTHCHECK):
// exit 0 when the endpoint answers 200, 1 otherwise.
func cmdHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, vals := flagSet("healthcheck", stderr)
	target := fs.String("url", "", "URL to probe (default: /healthz on the local TALLY_ADDR port)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u := *target
	if u == "" {
		cfg, err := loadConfig(vals)
		if err != nil {
			return fmt.Errorf("invalid configuration:\n%w", err)
		}
		_, port, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			return fmt.Errorf("TALLY_ADDR %q: %w", cfg.Addr, err)
		}
		u = "http://" + net.JoinHostPort("127.0.0.1", port) + "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("--url %q: %w", u, err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u, res.StatusCode)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
