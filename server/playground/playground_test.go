package playground_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/tallyhq/tally/graph"
	"github.com/tallyhq/tally/server/playground"
)

// TestExamplesMatchSchema parses every example and validates it, and its
// variables, against the real schema, so that a schema change that breaks
// an example fails CI instead of failing a user.
func TestExamplesMatchSchema(t *testing.T) {
	examples, err := playground.Examples()
	if err != nil {
		t.Fatal(err)
	}
	if len(examples) == 0 {
		t.Fatal("examples.json has no examples")
	}
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	seen := map[string]bool{}
	for _, ex := range examples {
		t.Run(ex.Name, func(t *testing.T) {
			if ex.Name == "" || ex.Capability == "" || strings.TrimSpace(ex.Query) == "" {
				t.Fatalf("example needs name, capability and query: %+v", ex)
			}
			if seen[ex.Name] {
				t.Fatalf("duplicate example name %q", ex.Name)
			}
			seen[ex.Name] = true
			doc, perr := parser.ParseQuery(&ast.Source{Name: ex.Name, Input: ex.Query})
			if perr != nil {
				t.Fatalf("parse: %v", perr)
			}
			if errs := validator.Validate(schema, doc); len(errs) > 0 {
				t.Fatalf("invalid against the schema: %v", errs)
			}
			if len(doc.Operations) != 1 {
				t.Fatalf("want exactly one operation, got %d", len(doc.Operations))
			}
			vars := ex.Variables
			if vars == nil {
				vars = map[string]any{}
			}
			if _, verr := validator.VariableValues(schema, doc.Operations[0], vars); verr != nil {
				t.Fatalf("variables %v: %v", vars, verr)
			}
			for name := range vars {
				if doc.Operations[0].VariableDefinitions.ForName(name) == nil {
					t.Fatalf("variable %q is not declared by the query", name)
				}
			}
		})
	}
}

// TestAssetsAreSelfContained checks that the page and every module it
// imports are served from the embedded files with the strict CSP, and that
// nothing points outside the server.
func TestAssetsAreSelfContained(t *testing.T) {
	srv := httptest.NewServer(playground.Handler())
	defer srv.Close()
	get := func(path string) (string, *http.Response) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, res.StatusCode)
		}
		return string(body), res
	}
	page, res := get("/")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("CSP = %q", csp)
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, " style=") || regexp.MustCompile(`(?i)\son[a-z]+=`).MatchString(page) {
		t.Fatal("index.html has inline script, style or event handler; the CSP blocks them")
	}
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`)
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("index.html references too few assets: %v", refs)
	}
	queue := []string{}
	for _, r := range refs {
		queue = append(queue, r[1])
	}
	imports := regexp.MustCompile(`(?m)^import\s[^"]*"\./([a-z]+\.js)"`)
	seen := map[string]bool{}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] || p == "/" {
			continue
		}
		seen[p] = true
		if !strings.HasPrefix(p, "/playground/") {
			t.Fatalf("asset %q is not served by the playground", p)
		}
		body, _ := get(p)
		if external.MatchString(body) && !strings.HasSuffix(p, ".svg") {
			t.Fatalf("%s refers to another host: %q", p, external.FindString(body))
		}
		if strings.HasSuffix(p, ".js") {
			for _, m := range imports.FindAllStringSubmatch(body, -1) {
				queue = append(queue, "/playground/js/"+m[1])
			}
		}
	}
	for _, dir := range []string{"/playground/", "/playground/js/"} {
		res, err := http.Get(srv.URL + dir)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404 (no listings)", dir, res.StatusCode)
		}
	}
	if !seen["/playground/js/completion.js"] || !seen["/playground/js/explorer.js"] {
		t.Fatalf("module graph not followed: %v", seen)
	}
}
