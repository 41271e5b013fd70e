package resolvers

import (
	"context"
	"strconv"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/auth"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/sites"
)

// ParseID turns a GraphQL ID into a row id, or a BAD_USER_INPUT error naming
// the argument.
func ParseID(field, id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, apperr.Invalid(field, "%q is not a valid id", id)
	}
	return n, nil
}

// readableSite loads a site after checking that the caller may read it. An
// unknown site and a site the caller may not see both answer FORBIDDEN for
// scoped tokens, so that ids cannot be probed.
func (r *Resolver) readableSite(ctx context.Context, id int64) (*db.Site, error) {
	if err := auth.CanRead(ctx, id); err != nil {
		return nil, err
	}
	return sites.ByID(ctx, r.DB, id)
}

// writableSite is readableSite for changes.
func (r *Resolver) writableSite(ctx context.Context, id int64) (*db.Site, error) {
	if err := auth.CanWrite(ctx, id); err != nil {
		return nil, err
	}
	return sites.ByID(ctx, r.DB, id)
}
