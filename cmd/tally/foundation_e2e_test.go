package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestAuthAndSitesOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		// No token: UNAUTHENTICATED.
		if r := h.gql(t, "", `{ sites { id } }`, nil); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("no token: want UNAUTHENTICATED, got %+v", r.Errors)
		}
		// Unknown token: UNAUTHENTICATED too.
		if r := h.gql(t, "tly_not_a_real_token_at_all", `{ sites { id } }`, nil); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("unknown token: want UNAUTHENTICATED, got %+v", r.Errors)
		}
		var created struct {
			CreateSite struct{ ID, Domain, Timezone string }
		}
		h.mustGQL(t, h.Admin, `mutation($d: String!) { createSite(input: {domain: $d, timezone: "Europe/Berlin"}) { id domain timezone } }`,
			map[string]any{"d": "https://WWW.Shop.Example.com/landing?x=1"}, &created)
		if created.CreateSite.Domain != "shop.example.com" || created.CreateSite.Timezone != "Europe/Berlin" {
			t.Fatalf("createSite = %+v", created.CreateSite)
		}
		var other struct{ CreateSite struct{ ID string } }
		h.mustGQL(t, h.Admin, `mutation { createSite(input: {domain: "blog.example.org"}) { id } }`, nil, &other)

		var list struct{ Sites []struct{ ID, Domain string } }
		h.mustGQL(t, h.Admin, `{ sites { id domain } }`, nil, &list)
		if len(list.Sites) != 2 || list.Sites[1].Domain != "shop.example.com" {
			t.Fatalf("sites = %+v", list.Sites)
		}

		// Duplicates and bad time zones are BAD_USER_INPUT.
		if r := h.gql(t, h.Admin, `mutation { createSite(input: {domain: "shop.example.com"}) { id } }`, nil); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("duplicate: %+v", r.Errors)
		}
		if r := h.gql(t, h.Admin, `mutation { createSite(input: {domain: "x.example.com", timezone: "Mars/Olympus"}) { id } }`, nil); r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "timezone") {
			t.Fatalf("bad tz: %+v", r.Errors)
		}

		// A read token for the shop sees only the shop.
		var tok struct {
			CreateAPIToken struct {
				Secret string
				Token  struct{ Scope, Prefix string }
			} `json:"createApiToken"`
		}
		h.mustGQL(t, h.Admin, `mutation($s: ID!) { createApiToken(input: {name: "shop reader", scope: READ, siteId: $s}) { secret token { scope prefix } } }`,
			map[string]any{"s": created.CreateSite.ID}, &tok)
		reader := tok.CreateAPIToken.Secret
		if tok.CreateAPIToken.Token.Scope != "READ" || !strings.HasPrefix(reader, tok.CreateAPIToken.Token.Prefix) {
			t.Fatalf("token = %+v", tok.CreateAPIToken)
		}
		h.mustGQL(t, reader, `{ sites { id domain } }`, nil, &list)
		if len(list.Sites) != 1 || list.Sites[0].ID != created.CreateSite.ID {
			t.Fatalf("reader sites = %+v", list.Sites)
		}
		if r := h.gql(t, reader, `query($id: ID!) { site(id: $id) { domain } }`, map[string]any{"id": other.CreateSite.ID}); r.code() != "FORBIDDEN" {
			t.Fatalf("reader reading other site: %+v", r.Errors)
		}
		if r := h.gql(t, reader, `mutation { createSite(input: {domain: "z.example.com"}) { id } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("reader creating site: %+v", r.Errors)
		}
		if r := h.gql(t, reader, `query($id: ID!) { updateSite: site(id: $id) { domain } }`, map[string]any{"id": created.CreateSite.ID}); len(r.Errors) != 0 {
			t.Fatalf("reader reading own site: %+v", r.Errors)
		}
		if r := h.gql(t, reader, `mutation($id: ID!) { updateSite(id: $id, input: {honorDnt: true}) { id } }`, map[string]any{"id": created.CreateSite.ID}); r.code() != "FORBIDDEN" {
			t.Fatalf("reader updating: %+v", r.Errors)
		}
		// Only the hash is stored.
		var stored []string
		if err := h.DB.NewSelect().Table("api_tokens").Column("token_hash").Scan(t.Context(), &stored); err != nil {
			t.Fatal(err)
		}
		for _, s := range stored {
			if s == reader || strings.Contains(s, reader) {
				t.Fatal("token secret stored in clear")
			}
		}
		// Revoked tokens stop working.
		var toks struct {
			APITokens []struct{ ID, Name string } `json:"apiTokens"`
		}
		h.mustGQL(t, h.Admin, `{ apiTokens { id name } }`, nil, &toks)
		var readerID string
		for _, tk := range toks.APITokens {
			if tk.Name == "shop reader" {
				readerID = tk.ID
			}
		}
		h.mustGQL(t, h.Admin, `mutation($id: ID!) { revokeApiToken(id: $id) }`, map[string]any{"id": readerID}, nil)
		if r := h.gql(t, reader, `{ sites { id } }`, nil); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("revoked token: %+v", r.Errors)
		}
		if strings.Contains(h.Logs.String(), reader) || strings.Contains(h.Logs.String(), h.Admin) {
			t.Fatal("a token secret appeared in the logs")
		}
	})
}

func TestHardening(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		deep := "{ viewer { site { id } } }"
		if r := h.gql(t, h.Admin, deep, nil); len(r.Errors) != 0 {
			t.Fatalf("shallow query rejected: %+v", r.Errors)
		}
		// Complexity: many aliased fields exceed the limit.
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < 600; i++ {
			b.WriteString(" s")
			b.WriteString(strings.Repeat("x", 1+i%3))
			b.WriteString(strconv.Itoa(i))
			b.WriteString(": sites { id }")
		}
		b.WriteString(" }")
		r := h.gql(t, h.Admin, b.String(), nil)
		if len(r.Errors) == 0 || r.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Fatalf("complexity not bounded: %+v", r.Errors)
		}
		// Oversized body: 413.
		big := strings.NewReader(`{"query":"{ sites { id } }","variables":{"x":"` + strings.Repeat("a", 2<<20) + `"}}`)
		res, err := http.Post(h.URL+"/graphql", "application/json", big)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge && res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("oversized body answered %d", res.StatusCode)
		}
		// GET works for queries.
		res, err = http.Get(h.URL + "/graphql?query=%7B__typename%7D")
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		_ = json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if got["data"] == nil {
			t.Fatalf("GET query: %v", got)
		}
		// Health, readiness and metrics.
		for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
			res, err := http.Get(h.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("%s: %d", p, res.StatusCode)
			}
			if p == "/metrics" {
				for _, m := range []string{"tally_http_requests_total", "tally_graphql_operations_total", "go_sql_open_connections"} {
					if !strings.Contains(string(body), m) {
						t.Errorf("/metrics lacks %s", m)
					}
				}
			}
		}
	})
}
