// Package tracker serves the browser tracking script: a hand-written,
// dependency-free script of under 1,000 bytes gzipped that counts pageviews
// (single-page apps included), custom events, and optionally outbound links
// and file downloads, without cookies or storage.
package tracker

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

//go:embed script.js
var script []byte

// Script returns the tracker source.
func Script() []byte { return script }

var (
	gzipped = mustGzip(script)
	etag    = func() string {
		h := sha256.Sum256(script)
		return `"` + hex.EncodeToString(h[:12]) + `"`
	}()
)

func mustGzip(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// Gzipped returns the compressed script as served to browsers.
func Gzipped() []byte { return gzipped }

// Handler serves the script. It is cached for a day by browsers and CDNs
// (the ETag makes revalidation after that a cheap 304); a day rather than a
// year because the URL carries no version, so an upgrade must reach pages
// without anyone editing their snippet.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/javascript; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=86400, stale-while-revalidate=604800")
		h.Set("ETag", etag)
		h.Set("Vary", "Accept-Encoding")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("X-Content-Type-Options", "nosniff")
		if match := r.Header.Get("If-None-Match"); match != "" && (strings.Contains(match, etag) || strings.TrimSpace(match) == "*") {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := script
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			body = gzipped
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}

// acceptsGzip reads Accept-Encoding: gzip (or *) with a q-value above 0.
func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.TrimSpace(coding)
		if !strings.EqualFold(coding, "gzip") && coding != "*" {
			continue
		}
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		return q > 0
	}
	return false
}
