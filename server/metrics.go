package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tallyhq/tally/db"
)

type metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	gqlOps    *prometheus.CounterVec
	gqlErrors *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, d *db.DB) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tally_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		gqlOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_graphql_operations_total", Help: "GraphQL operations by type.",
		}, []string{"operation"}),
		gqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_graphql_errors_total", Help: "GraphQL errors returned, by operation type.",
		}, []string{"operation"}),
	}
	reg.MustRegister(m.requests, m.latency, m.gqlOps, m.gqlErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(d.DB.DB, string(d.Kind)))
	return m
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController and the WebSocket upgrader reach the
// underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// route names the metric label for a path without using raw paths, whose
// number is unbounded.
func route(r *http.Request) string {
	switch p := r.URL.Path; p {
	case "/graphql", "/healthz", "/readyz", "/metrics", "/api/event", "/js/script.js", "/":
		return p
	default:
		return "other"
	}
}

func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		rt := route(r)
		d := time.Since(start)
		s.metrics.requests.WithLabelValues(rt, strconv.Itoa(sw.code)).Inc()
		s.metrics.latency.WithLabelValues(rt).Observe(d.Seconds())
		// The event endpoint is the hot path: its requests are counted, not
		// logged, and no log line ever carries a client address.
		if rt != "/api/event" && rt != "/metrics" && rt != "/healthz" {
			s.log.Info("http", "request_id", RequestID(r.Context()), "method", r.Method, "route", rt, "status", sw.code, "duration_ms", d.Milliseconds())
		}
	})
}
