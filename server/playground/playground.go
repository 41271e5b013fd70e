// Package playground serves the GraphQL playground: one page written for
// Tally and embedded in the binary, so that it works without a CDN.
package playground

import (
	"embed"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Handler serves the playground page and its assets.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.URL.Path == "/" {
			http.ServeFileFS(w, r, static, "static/index.html")
			return
		}
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		http.StripPrefix("/playground/", http.FileServer(mustSub())).ServeHTTP(w, r)
	})
}

func mustSub() http.FileSystem {
	return http.FS(subFS())
}
