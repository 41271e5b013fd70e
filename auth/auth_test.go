package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/auth"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

func TestTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		site := &db.Site{Domain: "a.com", Timezone: "UTC", AllowedHostnames: []string{}, ExcludedIPs: []string{}, ExcludedPaths: []string{}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if _, err := d.NewInsert().Model(site).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		tok, secret, err := auth.Create(ctx, d, "reader", auth.ScopeRead, &site.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, "tly_") || len(secret) < 30 || tok.TokenHash == secret || tok.TokenHash != auth.Hash(secret) {
			t.Fatalf("secret %q hash %q", secret, tok.TokenHash)
		}
		got, err := auth.Lookup(ctx, d, secret)
		if err != nil || got.ID != tok.ID {
			t.Fatalf("lookup: %v %v", got, err)
		}
		if _, err := auth.Lookup(ctx, d, secret+"x"); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("wrong secret: %v", err)
		}
		rctx := auth.WithToken(ctx, got)
		if err := auth.CanRead(rctx, site.ID); err != nil {
			t.Fatalf("read own: %v", err)
		}
		if err := auth.CanRead(rctx, site.ID+1); !errors.Is(err, auth.ErrForbidden) {
			t.Fatalf("read other: %v", err)
		}
		if err := auth.CanWrite(rctx, site.ID); !errors.Is(err, auth.ErrForbidden) {
			t.Fatalf("write with read token: %v", err)
		}
		if err := auth.RequireAdmin(rctx); !errors.Is(err, auth.ErrForbidden) {
			t.Fatalf("admin with read token: %v", err)
		}
		if err := auth.CanRead(ctx, site.ID); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("anonymous: %v", err)
		}
		if ok, err := auth.Revoke(ctx, d, tok.ID); !ok || err != nil {
			t.Fatalf("revoke: %v %v", ok, err)
		}
		if _, err := auth.Lookup(ctx, d, secret); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("revoked lookup: %v", err)
		}
		// Ensure is idempotent and rejects short secrets.
		created, err := auth.Ensure(ctx, d, "admin", "0123456789abcdef-admin")
		if err != nil || !created {
			t.Fatalf("ensure: %v %v", created, err)
		}
		if created, err := auth.Ensure(ctx, d, "admin", "0123456789abcdef-admin"); err != nil || created {
			t.Fatalf("ensure again: %v %v", created, err)
		}
		if _, err := auth.Ensure(ctx, d, "admin", "short"); err == nil {
			t.Fatal("short admin secret accepted")
		}
		for _, c := range []struct {
			scope auth.Scope
			site  *int64
		}{{auth.ScopeAdmin, &site.ID}, {auth.ScopeRead, nil}, {"owner", nil}} {
			if _, _, err := auth.Create(ctx, d, "x", c.scope, c.site); err == nil {
				t.Errorf("scope %s site %v accepted", c.scope, c.site)
			}
		}
	})
}
