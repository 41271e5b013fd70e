package main

import (
	"os"
	"regexp"
	"testing"
)

// TestREADMEListsEveryCommand keeps the README's command table and the
// command line in step: every command has a row, every row a command.
func TestREADMEListsEveryCommand(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `tally ([a-z]+)").FindAllStringSubmatch(string(raw), -1) {
		rows[m[1]] = true
	}
	known := map[string]bool{}
	for _, c := range commands() {
		known[c.name] = true
		if !rows[c.name] {
			t.Errorf("README.md's command table has no row for `tally %s`", c.name)
		}
	}
	for name := range rows {
		if !known[name] {
			t.Errorf("README.md lists `tally %s`, which is not a command", name)
		}
	}
}
