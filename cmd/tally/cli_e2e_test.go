package main

import (
	"bytes"
	"context"
	neturl "net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tallyhq/tally/auth"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
	"github.com/tallyhq/tally/sites"
)

// tally runs the command line in-process, as main does, and returns its
// exit code, stdout and stderr.
func tally(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// migrationFiles lists the migrations as the source tree has them (SQL
// files, and the data migrations the linked packages register), the
// expectation for `migrate status` computed without the migrator.
func migrationFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../db/migrations/*.up.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".up.sql"), ".tx"))
	}
	names = append(names, db.DataMigrationNames()...)
	if len(names) == len(files) {
		t.Fatal("no data migration registered: the binary should link the costs package's")
	}
	sort.Strings(names)
	return names
}

// TestMigrateCommand goes down, up and down again through `tally migrate`
// on both stores and checks the status output and the tables each time.
func TestMigrateCommand(t *testing.T) {
	want := migrationFiles(t)
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		migrate := func(action string) string {
			t.Helper()
			code, out, errOut := tally(t, "migrate", "--database-url", url, action)
			if code != 0 {
				t.Fatalf("migrate %s: exit %d: %s", action, code, errOut)
			}
			return out
		}
		tableExists := func() bool {
			d, err := db.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			_, err = d.ExecContext(context.Background(), "SELECT count(*) FROM api_tokens")
			return err == nil
		}
		status := func(state string) {
			t.Helper()
			out := migrate("status")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(want) {
				t.Fatalf("status lists %d migrations, the tree has %d:\n%s", len(lines), len(want), out)
			}
			for i, l := range lines {
				name, st, _ := strings.Cut(l, "\t")
				if name != want[i] || !regexp.MustCompile(state).MatchString(st) {
					t.Fatalf("status line %d = %q, want %s %s", i, l, want[i], state)
				}
			}
		}

		// dbtest migrated the database in one group.
		status(`^applied \(group 1\)$`)
		if out := migrate("up"); strings.TrimSpace(out) != "database is up to date" {
			t.Fatalf("second up: %q", out)
		}
		out := migrate("down")
		for _, n := range want {
			if !strings.Contains(out, "rolled back "+n+"\n") {
				t.Fatalf("down did not roll back %s:\n%s", n, out)
			}
		}
		status(`^pending$`)
		if tableExists() {
			t.Fatal("api_tokens still exists after migrate down")
		}
		if out := migrate("down"); strings.TrimSpace(out) != "nothing to roll back" {
			t.Fatalf("down on an empty database: %q", out)
		}
		out = migrate("up")
		if got := strings.Fields(strings.ReplaceAll(out, "applied ", "")); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("up applied %v, want %v", got, want)
		}
		status(`^applied \(group \d+\)$`)
		if !tableExists() {
			t.Fatal("api_tokens missing after migrate up")
		}

		code, _, errOut := tally(t, "migrate", "--database-url", url, "sideways")
		if code != 1 || !strings.Contains(errOut, `unknown action "sideways"`) {
			t.Fatalf("bad action: exit %d, %q", code, errOut)
		}
	})
}

// TestAdminCommands runs version, site add and token create as an operator
// would, and checks their effect in the database.
func TestAdminCommands(t *testing.T) {
	code, out, _ := tally(t, "version")
	if code != 0 || !regexp.MustCompile(`^tally \S+\n$`).MatchString(out) {
		t.Fatalf("version: exit %d, %q", code, out)
	}

	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		ctx := context.Background()
		cases := []struct {
			args     []string
			code     int
			domain   string // site expected afterwards
			tz       string
			errorHas string
		}{
			{args: []string{"site", "add", "https://WWW.Blog.Example.net/x"}, domain: "blog.example.net", tz: "UTC"},
			{args: []string{"site", "add", "shop.example.net", "--timezone", "Europe/Paris"}, domain: "shop.example.net", tz: "Europe/Paris"},
			{args: []string{"site", "add", "--timezone", "Asia/Tokyo", "jp.example.net"}, domain: "jp.example.net", tz: "Asia/Tokyo"},
			{args: []string{"site", "add", "mars.example.net", "--timezone", "Mars/Base"}, code: 1, errorHas: "Mars/Base"},
			{args: []string{"site", "add", "blog.example.net"}, code: 1, errorHas: "already exists"},
			{args: []string{"site", "add"}, code: 1, errorHas: "usage: tally site add DOMAIN"},
		}
		for _, c := range cases {
			code, _, errOut := tally(t, append(c.args, "--database-url", url)...)
			if code != c.code || (c.errorHas != "" && !strings.Contains(errOut, c.errorHas)) {
				t.Fatalf("%v: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, errOut, c.errorHas)
			}
		}
		d, err := db.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		for _, c := range cases {
			if c.domain == "" {
				continue
			}
			s, err := sites.ByDomain(ctx, d, c.domain)
			if err != nil || s.Timezone != c.tz {
				t.Fatalf("site %s after %v: %+v, %v", c.domain, c.args, s, err)
			}
		}

		code, secret, errOut := tally(t, "token", "create", "--database-url", url, "--name", "dashboard", "--scope", "read", "--site", "shop.example.net")
		if code != 0 {
			t.Fatalf("token create: exit %d: %s", code, errOut)
		}
		secret = strings.TrimSpace(secret)
		tok, err := auth.Lookup(ctx, d, secret)
		if err != nil {
			t.Fatalf("the printed secret does not authenticate: %v", err)
		}
		shop, _ := sites.ByDomain(ctx, d, "shop.example.net")
		if tok.Name != "dashboard" || tok.Scope != auth.Scope("read") || tok.SiteID == nil || *tok.SiteID != shop.ID {
			t.Fatalf("token = %+v, want read on site %d", tok, shop.ID)
		}
		if strings.Contains(errOut, secret) {
			t.Fatal("the secret was printed to stderr as well")
		}
		if code, _, errOut := tally(t, "token", "create", "--database-url", url, "--scope", "read"); code != 1 || errOut == "" {
			t.Fatalf("read token without a site: exit %d, %q", code, errOut)
		}
	})
}

// TestHealthcheckCommand probes a running server and a dead address.
func TestHealthcheckCommand(t *testing.T) {
	h := startHarness(t, dbtest.URL(t, db.SQLite), nil)
	u, _ := neturl.Parse(h.URL)
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"healthcheck", "--url", h.URL + "/healthz"}, 0},
		{[]string{"healthcheck", "--addr", ":" + u.Port()}, 0},
		{[]string{"healthcheck", "--url", h.URL + "/no-such-page"}, 1},
		{[]string{"healthcheck", "--url", "http://127.0.0.1:1/healthz", "--timeout", "1s"}, 1},
	}
	for _, c := range cases {
		if code, out, errOut := tally(t, c.args...); code != c.code {
			t.Errorf("%v: exit %d, want %d (stdout %q, stderr %q)", c.args, code, c.code, out, errOut)
		}
	}
}
