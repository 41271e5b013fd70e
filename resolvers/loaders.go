package resolvers

import (
	"context"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/tallyhq/tally/analytics"
)

// Loaders batch per-item lookups of one GraphQL operation, so that a list
// (sites { goals }) costs one query instead of one per item.
type Loaders struct {
	Goals *dataloadgen.Loader[int64, []analytics.Goal]
}

type loadersKey struct{}

// WithLoaders gives an operation fresh loaders; the server calls it around
// every operation.
func (r *Resolver) WithLoaders(ctx context.Context) context.Context {
	l := &Loaders{
		Goals: dataloadgen.NewMappedLoader(func(ctx context.Context, siteIDs []int64) (map[int64][]analytics.Goal, error) {
			return analytics.GoalsOf(ctx, r.DB, siteIDs)
		}, dataloadgen.WithWait(time.Millisecond)),
	}
	return context.WithValue(ctx, loadersKey{}, l)
}

func (r *Resolver) loaders(ctx context.Context) *Loaders {
	if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
		return l
	}
	return r.WithLoaders(ctx).Value(loadersKey{}).(*Loaders)
}
