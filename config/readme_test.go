package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the configuration table in ../README.md from Options")

const (
	tableBegin = "<!-- config:begin -->"
	tableEnd   = "<!-- config:end -->"
)

// readmeTable renders Options as the README's Markdown table.
func readmeTable() string {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	var b strings.Builder
	b.WriteString("| variable | flag | default | what |\n| --- | --- | --- | --- |\n")
	for _, o := range Options {
		def := "(empty)"
		if o.Default != "" {
			def = "`" + esc(o.Default) + "`"
		}
		help := esc(o.Help)
		if o.Secret {
			help += " (secret: never logged)"
		}
		b.WriteString("| `" + o.Env + "` | `--" + o.Flag + "` | " + def + " | " + help + " |\n")
	}
	return b.String()
}

// TestREADMEConfigTable fails when the README's configuration table and
// Options disagree; run it with -update to regenerate the table.
func TestREADMEConfigTable(t *testing.T) {
	const path = "../README.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, tableBegin), strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %s … %s markers", tableBegin, tableEnd)
	}
	want := readmeTable()
	got := readme[i+len(tableBegin)+1 : j]
	if *update {
		if err := os.WriteFile(path, []byte(readme[:i+len(tableBegin)]+"\n"+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Fatalf("README.md's configuration table is out of date; run `go test ./config -run TestREADMEConfigTable -update`.\nwant:\n%s\ngot:\n%s", want, got)
	}
}
