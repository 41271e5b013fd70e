package collect

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

// After storing events, no table cell and no log line may contain a client
// address (in any spelling we can think of) or a User-Agent string sent.
func TestNothingPersonalIsStoredOrLogged(t *testing.T) {
	ips := []string{"203.0.113.77", "198.51.100.203", "2001:db8:85a3::8a2e:370:7334"}
	uas := []string{
		chromeWin + " PrivacyProbe/1",
		safariIPhone + " PrivacyProbe/2",
		"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0 PrivacyProbe/3",
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		mustSite(t, d, "example.com", nil)
		e := newEnv(t, d, Options{})
		for i, ip := range ips {
			for j, ua := range uas {
				body := fmt.Sprintf(`{"n":"pageview","u":"https://example.com/p%d","d":"example.com","r":"https://news.example.org/"}`, i*10+j)
				if code, msg, _ := e.send(t, hit{ip: ip, ua: ua, body: body}); code != 202 {
					t.Fatalf("%d %s", code, msg)
				}
				// and refused ones must not leak either
				e.send(t, hit{ip: ip, ua: ua, body: `{"n":"pageview","u":"https://example.com/","d":"unknown.example"}`})
			}
		}
		e.flush(t)
		if n := len(events(t, d)); n != len(ips)*len(uas) {
			t.Fatalf("stored %d events", n)
		}
		dump := dumpAllTables(t, d)
		needles := append([]string{}, uas...)
		for _, ip := range ips {
			a := parseAddr(ip)
			needles = append(needles, ip, a.StringExpanded(), strings.ReplaceAll(ip, ".", "-"))
		}
		needles = append(needles, "PrivacyProbe")
		for _, n := range needles {
			if strings.Contains(dump, n) {
				t.Errorf("a table contains %q", n)
			}
			if strings.Contains(e.logs.String(), n) {
				t.Errorf("the log contains %q", n)
			}
		}
		if !strings.Contains(dump, "news.example.org") {
			t.Fatal("the dump does not contain stored data: the scan is broken")
		}
	})
}

// dumpAllTables renders every row of every table as text.
func dumpAllTables(t *testing.T, d *db.DB) string {
	t.Helper()
	ctx := context.Background()
	var tables []string
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if d.IsPostgres() {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	if err := d.NewRaw(q).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 5 {
		t.Fatalf("found only tables %v", tables)
	}
	var b strings.Builder
	for _, tbl := range tables {
		rows, err := d.QueryContext(ctx, "SELECT * FROM "+tbl)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%v\t", v)
			}
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String()
}
