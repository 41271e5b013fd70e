package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/tallyhq/tally/graph"
)

// depthLimit rejects operations nested deeper than max. Introspection fields
// are not counted: the standard introspection query is deep by design and
// its cost is bounded by the schema.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                          { return "DepthLimit" }
func (depthLimit) Validate(schema graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if d.max <= 0 || oc.Operation == nil {
		return nil
	}
	if got := depth(oc.Operation.SelectionSet, oc.Doc.Fragments, 0, map[string]bool{}); got > d.max {
		err := gqlerror.Errorf("operation is nested %d levels deep, more than the limit of %d", got, d.max)
		err.Extensions = map[string]any{"code": "QUERY_TOO_DEEP"}
		return err
	}
	return nil
}

func depth(set ast.SelectionSet, frags ast.FragmentDefinitionList, level int, seen map[string]bool) int {
	deepest := level
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.Name) > 1 && s.Name[:2] == "__" {
				continue
			}
			d = depth(s.SelectionSet, frags, level+1, seen)
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, frags, level, seen)
		case *ast.FragmentSpread:
			if seen[s.Name] {
				continue
			}
			f := frags.ForName(s.Name)
			if f == nil {
				continue
			}
			seen[s.Name] = true
			d = depth(f.SelectionSet, frags, level, seen)
			delete(seen, s.Name)
		}
		if d > deepest {
			deepest = d
		}
	}
	return deepest
}

// complexityRoot keeps gqlgen's default cost (one per field, multiplied by
// nothing); list fields that take a limit are charged for it by the domain
// schemas through their own complexity functions where needed.
func complexityRoot() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	return c
}
