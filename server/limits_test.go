package server

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

func TestDepth(t *testing.T) {
	cases := []struct {
		name  string
		query string
		want  int
	}{
		{"flat", `{ a b }`, 1},
		{"nested", `{ a { b { c } } }`, 3},
		{"widest branch counts", `{ a { b } c { d { e { f } } } }`, 4},
		{"fragment spreads add their depth", `query { a { ...F } } fragment F on T { b { c } }`, 3},
		{"inline fragments do not add a level", `{ a { ... on T { b } } }`, 2},
		{"introspection is not counted", `{ __schema { types { fields { type { ofType { ofType { name } } } } } } a }`, 1},
		{"recursive fragments terminate", `query { a { ...F } } fragment F on T { b { ...F } }`, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: c.query})
			if err != nil {
				t.Fatal(err)
			}
			got := depth(doc.Operations[0].SelectionSet, doc.Fragments, 0, map[string]bool{})
			if got != c.want {
				t.Fatalf("depth = %d, want %d", got, c.want)
			}
		})
	}
}
