package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

const chromiumPath = "/usr/bin/chromium"

// TestPlaygroundInBrowser drives the playground in headless Chromium against
// a real server: the page must load nothing from another origin, and a person
// must be able to paste a token, pick an example, run it and read the result.
func TestPlaygroundInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("TALLY_REQUIRE_BROWSER") == "1" {
			t.Fatalf("TALLY_REQUIRE_BROWSER=1 but %s is missing: %v", chromiumPath, err)
		}
		t.Skipf("%s not installed (apt-get install chromium); set TALLY_REQUIRE_BROWSER=1 to make this a failure", chromiumPath)
	}
	h := startHarness(t, dbtest.URL(t, db.SQLite), nil)

	// The data the example should show, created independently of the page.
	var created struct {
		CreateSite struct{ ID, Domain, Timezone string }
	}
	h.mustGQL(t, h.Admin, `mutation { createSite(input: {domain: "browser-test.example.org", timezone: "Asia/Tokyo"}) { id domain timezone } }`, nil, &created)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(ctx); err != nil { // start the browser without a deadline
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	var mu sync.Mutex
	var requested []string
	var consoleErrors []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" {
				mu.Lock()
				consoleErrors = append(consoleErrors, m.Text)
				mu.Unlock()
			}
		}
	}()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(what, js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	waitFor := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v (status %q, result %q)", what, err,
				eval("status", `document.getElementById("status").textContent`),
				eval("result", `document.getElementById("result").textContent.slice(0, 400)`))
		}
	}

	// TALLY_PLAYGROUND_SCREENSHOTS=DIR saves what the page looks like at each
	// step, for a person to look at while working on the page.
	shot := func(name string) {
		t.Helper()
		dir := os.Getenv("TALLY_PLAYGROUND_SCREENSHOTS")
		if dir == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	do("load the playground", chromedp.Navigate(h.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`button[data-example="List sites"]`)))
	waitFor("the schema explorer", `document.querySelectorAll("#schema-body a.tlink").length > 3`)

	// Without a token, the example's error is shown with its code.
	do("pick the example", chromedp.Click(chromedp.CSS(`button[data-example="List sites"]`)))
	if q := eval("query", `document.getElementById("query").value`); !strings.Contains(q, "sites {") {
		t.Fatalf("example not loaded into the editor: %q", q)
	}
	do("run without a token", chromedp.Click(chromedp.ID("run")))
	waitFor("the UNAUTHENTICATED error", `[...document.querySelectorAll("#errors .error")].some(e => e.dataset.code === "UNAUTHENTICATED")`)
	shot("1-unauthenticated")

	// With the admin token pasted in, Ctrl+Enter runs the example.
	do("paste the token", chromedp.SendKeys(chromedp.ID("token"), h.Admin))
	do("run with Ctrl+Enter", chromedp.Focus(chromedp.ID("query")),
		chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	waitFor("the result", `document.getElementById("status").textContent.startsWith("HTTP 200") && document.getElementById("errors").hidden`)
	shot("2-result")
	var shown struct {
		Data struct {
			Sites []struct{ ID, Domain, Timezone string }
		}
	}
	text := eval("result text", `document.getElementById("result").textContent`)
	if err := json.Unmarshal([]byte(text), &shown); err != nil {
		t.Fatalf("result pane is not the JSON answer: %v\n%s", err, text)
	}
	if len(shown.Data.Sites) != 1 || shown.Data.Sites[0] != created.CreateSite {
		t.Fatalf("result pane shows %+v, want the site %+v", shown.Data.Sites, created.CreateSite)
	}

	// The token stays in sessionStorage; history keeps the query, never the token.
	if got := eval("session token", `sessionStorage.getItem("tally.playground.token") || ""`); got != h.Admin {
		t.Fatalf("sessionStorage token = %q", got)
	}
	local := eval("localStorage", `JSON.stringify(Object.assign({}, localStorage))`)
	if strings.Contains(local, h.Admin) {
		t.Fatal("the token leaked into localStorage")
	}
	if !strings.Contains(local, "sites {") {
		t.Fatalf("history did not record the run: %s", local)
	}

	// Completion offers the fields of the type at the cursor.
	do("type a partial field", chromedp.Click(chromedp.CSS(`button[data-example="Who am I"]`)),
		chromedp.Evaluate[chromedp.Void](`(() => { const q = document.getElementById("query"); q.focus(); const at = q.value.indexOf("scope"); q.setRangeText("\n    ", at, at, "start"); })()`),
		chromedp.SendKeys(chromedp.ID("query"), "si"))
	waitFor("completions", `!document.getElementById("completions").hidden`)
	shot("3-completion")
	got := eval("completion items", `[...document.querySelectorAll("#completions .clabel")].map(e => e.textContent).join(",")`)
	if got != "site" {
		t.Fatalf("completions inside viewer for %q = %q, want site", "si", got)
	}
	// Enter as a real key press without the separate char event chromedp's
	// KeyEvent adds, which a browser never sends once keydown is cancelled.
	enter := chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, tgt, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	do("accept the completion", enter)
	if q := eval("query after completion", `document.getElementById("query").value`); !strings.Contains(q, "\n    site\n    scope") {
		t.Fatalf("accepting the completion gave %q", q)
	}
	// The coloured copy under the textarea must mirror it exactly.
	if same := eval("highlight mirror", `(() => { const q = document.getElementById("query"), p = document.getElementById("query-highlight");
		const a = getComputedStyle(q), b = getComputedStyle(p);
		return String(p.textContent === q.value + "\n\n" && a.font === b.font && a.paddingTop === b.paddingTop && a.paddingLeft === b.paddingLeft && a.lineHeight === b.lineHeight); })()`); same != "true" {
		t.Fatal("the highlighted copy of the query does not line up with the textarea")
	}

	// The schema explorer links through to a type's fields.
	do("open the explorer", chromedp.Click(chromedp.CSS(`button[data-tab="schema"]`)),
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#schema-body a.tlink")].find(a => a.textContent === "Site").click()`))
	waitFor("the Site type", `document.querySelector("#schema-body h2") && document.querySelector("#schema-body h2").textContent === "Site"`)
	if doc := eval("field docs", `document.getElementById("schema-body").textContent`); !strings.Contains(doc, "IANA time zone used for dates in stats.") {
		t.Fatalf("explorer lacks field descriptions: %q", doc)
	}

	shot("4-explorer")

	// A subscription runs over the WebSocket; Run turns into Stop.
	do("run the heartbeat subscription", chromedp.Click(chromedp.CSS(`button[data-tab="examples"]`)),
		chromedp.Click(chromedp.CSS(`button[data-example="Server heartbeat (subscription)"]`)),
		chromedp.Click(chromedp.ID("run")))
	waitFor("a heartbeat event", `document.getElementById("status").textContent.includes("1 event")`)
	shot("5-subscription")
	var beat struct {
		Data struct{ Heartbeat *int }
	}
	if err := json.Unmarshal([]byte(eval("event", `document.getElementById("result").textContent`)), &beat); err != nil || beat.Data.Heartbeat == nil {
		t.Fatalf("subscription event not shown as JSON: %v", err)
	}
	if label := eval("run label", `document.getElementById("run").textContent`); !strings.Contains(label, "Stop") {
		t.Fatalf("Run button during a subscription says %q", label)
	}
	do("stop", chromedp.Click(chromedp.ID("run")))
	waitFor("the end of the subscription", `document.getElementById("status").textContent.startsWith("subscription ended") && document.getElementById("run").textContent.includes("Run")`)

	checkEditorLogic(t, ctx)

	// "Copy curl" must give a command that works when pasted into a shell.
	cmdline := eval("curl command", `(async () => (await import("/playground/js/main.js")).curlCommand(location.origin, "# it's a test\n{ sites { domain timezone } }", {}, ""))()`)
	if strings.Contains(cmdline, h.Admin) {
		t.Fatal("the curl command carries the token")
	}
	sh := exec.Command("sh", "-c", cmdline)
	sh.Env = append(os.Environ(), "TALLY_TOKEN="+h.Admin)
	answer, err := sh.Output()
	if err != nil {
		t.Fatalf("running %s: %v", cmdline, err)
	}
	if want := `{"data":{"sites":[{"domain":"browser-test.example.org","timezone":"Asia/Tokyo"}]}}`; strings.TrimSpace(string(answer)) != want {
		t.Fatalf("curl command answered %s, want %s", answer, want)
	}

	mu.Lock()
	defer mu.Unlock()
	base, _ := url.Parse(h.URL)
	loaded := map[string]bool{}
	for _, raw := range requested {
		u, err := url.Parse(raw)
		if err != nil || u.Host != base.Host || u.Scheme != base.Scheme {
			t.Errorf("the page requested %q, which is not the server itself", raw)
			continue
		}
		loaded[u.Path] = true
	}
	for _, want := range []string{"/", "/playground/js/subscribe.js", "/playground/style.css", "/playground/js/main.js", "/playground/js/completion.js", "/playground/favicon.svg", "/playground/examples.json", "/graphql"} {
		if !loaded[want] {
			t.Errorf("the page never loaded %s (loaded: %v)", want, loaded)
		}
	}
	if len(consoleErrors) > 0 {
		t.Errorf("browser console errors: %q", consoleErrors)
	}
}

// checkEditorLogic runs the page's own completion, prettify and
// operation-picking modules in the browser against the live schema, over a
// table of cursor positions whose answers were worked out by hand from
// graph/schema.graphqls.
func checkEditorLogic(t *testing.T, ctx context.Context) {
	t.Helper()
	completions := []struct {
		text string // | marks the cursor
		want []string
	}{
		{`|`, []string{"query", "mutation", "subscription", "fragment"}},
		{`{ vie|`, []string{"viewer"}},
		{`query { sites { dom|`, []string{"domain"}},
		{`query { x: viewer { sco|`, []string{"scope"}},
		{`query { site(|`, []string{"id", "domain"}},
		{`query { site(id: "1", |`, []string{"domain"}},
		{`mutation { createApiToken(input: {scope: |`, []string{"ADMIN", "READ", "WRITE"}},
		{`mutation { createApiToken(input: {name: "x", |`, []string{"scope", "siteId"}},
		{`mutation { updateSite(id: 1, input: {honorDnt: |`, []string{"true", "false"}},
		{`mutation { updateSite(id: 1, input: {excludedPaths: ["/a", "/b"], honor|`, []string{"honorDnt"}},
		{`mutation { createSite(input: {domain: "a"}) { timez|`, []string{"timezone"}},
		{`query Q($s: Scop|`, []string{"Scope"}},
		{`{ viewer { site { ... on Si|`, []string{"Site"}},
		// A word already complete with no other choice needs no list.
		{`{ viewer { site { ... on Site|`, nil},
		{`subscription { hea|`, []string{"heartbeat"}},
		{`query Q($domain: String!, $id: ID) { site(domain: $|`, []string{"domain", "id"}},
		{`query Q($domain: String!, $id: ID) { site(id: $i|`, []string{"id"}},
		{`query { sites { "dom|`, nil},
		{`query { sites { # dom|`, nil},
	}
	formats := []struct{ in, want string }{
		{`{viewer{scope site{domain}}}`, "{\n  viewer {\n    scope\n    site {\n      domain\n    }\n  }\n}\n"},
		{"query Q($d: String!, $n: Int = 5) { site(domain: $d) { id # the id\n x: domain ...on Site { timezone } } }\nmutation M { createSite(input: {domain: \"a\", timezone: \"UTC\"}) { id } }",
			"query Q($d: String!, $n: Int = 5) {\n  site(domain: $d) {\n    id # the id\n    x: domain\n    ... on Site {\n      timezone\n    }\n  }\n}\n\nmutation M {\n  createSite(input: {domain: \"a\", timezone: \"UTC\"}) {\n    id\n  }\n}\n"},
	}
	ops := []struct {
		text       string
		name, kind string
	}{
		{"query A { a }\nmutation B { b |}\n{ c }", "B", "mutation"},
		{"query A { a| }\nsubscription S { s }", "A", "query"},
		{"query A { a }\n{ c| }", "", "query"},
		{"subscription S { s| }", "S", "subscription"},
	}
	type result struct {
		Completions [][]string
		Formats     []string
		Reformats   []string
		Ops         []struct{ Name, Kind string }
	}
	var texts []string
	for _, c := range completions {
		texts = append(texts, c.text)
	}
	var fins []string
	for _, f := range formats {
		fins = append(fins, f.in)
	}
	var otexts []string
	for _, o := range ops {
		otexts = append(otexts, o.text)
	}
	input, _ := json.Marshal(map[string]any{"completions": texts, "formats": fins, "ops": otexts})
	js := `(async (input) => {
		const { suggest } = await import("/playground/js/completion.js");
		const { Schema } = await import("/playground/js/schema.js");
		const { loadSchema } = await import("/playground/js/graphql.js");
		const { prettify } = await import("/playground/js/format.js");
		const { operationInfoAt } = await import("/playground/js/lexer.js");
		const schema = new Schema(await loadSchema(""));
		const at = (c) => [c.replace("|", ""), c.indexOf("|")];
		return JSON.stringify({
			completions: input.completions.map((c) => { const r = suggest(schema, ...at(c)); return r && r.items.length ? r.items.map((i) => i.label) : null; }),
			formats: input.formats.map((f) => prettify(f)),
			reformats: input.formats.map((f) => prettify(prettify(f))),
			ops: input.ops.map((o) => operationInfoAt(...at(o))),
		});
	})(` + string(input) + `)`
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run editor modules: %v", err)
	}
	var got result
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	for i, c := range completions {
		if strings.Join(got.Completions[i], ",") != strings.Join(c.want, ",") {
			t.Errorf("completions at %q = %q, want %q", c.text, got.Completions[i], c.want)
		}
	}
	for i, f := range formats {
		if got.Formats[i] != f.want {
			t.Errorf("prettify(%q) =\n%s\nwant\n%s", f.in, got.Formats[i], f.want)
		}
		if got.Reformats[i] != got.Formats[i] {
			t.Errorf("prettify is not idempotent on %q:\n%s", f.in, got.Reformats[i])
		}
	}
	for i, o := range ops {
		if got.Ops[i].Name != o.name || got.Ops[i].Kind != o.kind {
			t.Errorf("operation at %q = %+v, want %s %q", o.text, got.Ops[i], o.kind, o.name)
		}
	}
}
