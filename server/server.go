// Package server wires Tally's HTTP surface: the GraphQL endpoint, the
// playground, health and metrics, and the middleware around them (request
// ids, structured logs, token authentication, body limits, timeouts).
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tallyhq/tally/auth"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/resolvers"
	"github.com/tallyhq/tally/server/playground"
)

// Config holds the HTTP settings.
type Config struct {
	Addr           string
	Introspection  bool
	MaxDepth       int
	MaxComplexity  int
	MaxBodyBytes   int64
	MaxUploadBytes int64
	RequestTimeout time.Duration
	// ShutdownTimeout bounds how long SIGTERM waits for in-flight requests.
	ShutdownTimeout time.Duration
}

// DefaultConfig returns production defaults.
func DefaultConfig() Config {
	return Config{
		Addr:            ":8080",
		Introspection:   true,
		MaxDepth:        12,
		MaxComplexity:   500,
		MaxBodyBytes:    1 << 20,
		MaxUploadBytes:  2 << 30,
		RequestTimeout:  30 * time.Second,
		ShutdownTimeout: 20 * time.Second,
	}
}

// Server is the HTTP server.
type Server struct {
	cfg      Config
	db       *db.DB
	log      *slog.Logger
	mux      *http.ServeMux
	metrics  *metrics
	Registry *prometheus.Registry
	shutdown []func(context.Context)
	// notReady, when set, is why /readyz answers 503 even though the
	// database is reachable (for example demo data still loading).
	notReady atomic.Pointer[string]
}

// New builds the server; callers add domain routes with Handle before Serve.
func New(cfg Config, d *db.DB, res *resolvers.Resolver, log *slog.Logger) *Server {
	reg := prometheus.NewRegistry()
	s := &Server{cfg: cfg, db: d, log: log, mux: http.NewServeMux(), Registry: reg}
	s.metrics = newMetrics(reg, d)
	gql := s.graphqlHandler(res)
	s.mux.Handle("/graphql", s.authenticate(gql))
	s.mux.Handle("GET /{$}", playground.Handler())
	s.mux.Handle("GET /playground/", playground.Handler())
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return s
}

// Handle mounts a domain route (for example the event endpoint) with the
// same logging and metrics as the built-in ones.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// OnShutdown registers work to do after the listener stops and in-flight
// requests have drained (for example flushing queued events).
func (s *Server) OnShutdown(f func(context.Context)) { s.shutdown = append(s.shutdown, f) }

// Handler returns the full handler chain, for tests and embedding.
func (s *Server) Handler() http.Handler {
	return s.requestID(s.observe(s.limitBody(s.mux)))
}

// Serve listens until ctx is cancelled, then drains in-flight requests and
// runs the shutdown hooks.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: draining in-flight requests", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	for _, f := range s.shutdown {
		f(sctx)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// SetNotReady makes /readyz answer 503 with reason until SetReady; load
// balancers then keep traffic away while the process is still preparing.
func (s *Server) SetNotReady(reason string) { s.notReady.Store(&reason) }

// SetReady clears a reason given to SetNotReady.
func (s *Server) SetReady() { s.notReady.Store(nil) }

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if reason := s.notReady.Load(); reason != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(*reason + "\n"))
		return
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.log.WarnContext(ctx, "readiness: database not reachable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database not reachable\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

type ctxKey int

const requestIDKey ctxKey = 1

// RequestID returns the id given to the current request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	if id == "" {
		return "none"
	}
	return id
}

func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// limitBody bounds every request body; /graphql multipart uploads get the
// larger upload limit, everything else MaxBodyBytes.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.cfg.MaxBodyBytes
		if r.URL.Path == "/graphql" && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			limit = s.cfg.MaxUploadBytes
		}
		if r.ContentLength > limit {
			http.Error(w, fmt.Sprintf("request body is larger than the limit of %d bytes", limit), http.StatusRequestEntityTooLarge)
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		if s.cfg.RequestTimeout > 0 && r.URL.Path == "/graphql" && !isWebsocket(r) {
			ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// authenticate resolves a Bearer token into the request context. A missing
// token is not rejected here: fields decide, so that errors carry codes.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret := bearer(r.Header.Get("Authorization"))
		if secret != "" {
			t, err := auth.Lookup(r.Context(), s.db, secret)
			switch {
			case err == nil:
				r = r.WithContext(auth.WithToken(r.Context(), t))
			case !errors.Is(err, auth.ErrUnauthenticated):
				s.log.ErrorContext(r.Context(), "token lookup failed", "request_id", RequestID(r.Context()), "err", err)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func bearer(h string) string {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
