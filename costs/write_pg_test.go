package costs

import (
	"strings"
	"testing"
)

func TestAppendCopyText(t *testing.T) {
	// COPY's text format, as PostgreSQL's documentation states it.
	want := strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\x00", "")
	for _, s := range []string{
		"", "plain", `C:\path`, "a\tb", "line\nbreak\r\n", "nul\x00byte", `\`, "\t\t", "ünïcödé\t✓",
		`{"k": "v\"q"}`, "end\\",
	} {
		got := string(appendCopyText([]byte("x"), s))
		if exp := "x" + want.Replace(s); got != exp {
			t.Errorf("appendCopyText(%q) = %q, want %q", s, got, exp)
		}
	}
}
