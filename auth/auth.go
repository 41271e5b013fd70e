// Package auth issues and checks API tokens. A token's secret is shown once
// and only its SHA-256 is stored; a token carries one scope: admin, or read
// or write on one site.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Scope is what a token may do.
type Scope string

const (
	ScopeAdmin Scope = "admin"
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
)

var (
	// ErrUnauthenticated means no token, or one that is unknown or revoked.
	ErrUnauthenticated = errors.New("a valid API token is required: send Authorization: Bearer <token>")
	// ErrForbidden means the token is valid but its scope does not allow the action.
	ErrForbidden = errors.New("this API token's scope does not allow this")
)

// secretPrefix marks Tally secrets so that secret scanners can find leaked ones.
const secretPrefix = "tly_"

// Token is a stored API token, without its secret.
type Token struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID         int64      `bun:"id,pk,autoincrement"`
	Name       string     `bun:"name,notnull"`
	TokenHash  string     `bun:"token_hash,notnull"`
	Prefix     string     `bun:"prefix,notnull"`
	Scope      Scope      `bun:"scope,notnull"`
	SiteID     *int64     `bun:"site_id"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

// Hash returns the stored form of a secret.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewSecret returns a fresh random token secret.
func NewSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Errorf("crypto/rand: %w", err))
	}
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Create stores a new token and returns it with its secret, which is not
// kept anywhere and cannot be shown again.
func Create(ctx context.Context, d bun.IDB, name string, scope Scope, siteID *int64) (*Token, string, error) {
	secret := NewSecret()
	t, err := insert(ctx, d, name, scope, siteID, secret)
	return t, secret, err
}

// Ensure makes sure an admin token with the given secret exists (for
// TALLY_ADMIN_TOKEN) and reports whether it had to create it.
func Ensure(ctx context.Context, d bun.IDB, name, secret string) (bool, error) {
	if len(secret) < 16 {
		return false, errors.New("TALLY_ADMIN_TOKEN must be at least 16 characters long")
	}
	n, err := d.NewSelect().Model((*Token)(nil)).Where("token_hash = ?", Hash(secret)).Where("revoked_at IS NULL").Count(ctx)
	if err != nil {
		return false, fmt.Errorf("look up admin token: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	_, err = insert(ctx, d, name, ScopeAdmin, nil, secret)
	return err == nil, err
}

func insert(ctx context.Context, d bun.IDB, name string, scope Scope, siteID *int64, secret string) (*Token, error) {
	if err := ValidateScope(scope, siteID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("token name must not be empty")
	}
	prefix := secret
	if len(prefix) > 8 {
		prefix = prefix[:8]
	}
	t := &Token{Name: name, TokenHash: Hash(secret), Prefix: prefix, Scope: scope, SiteID: siteID, CreatedAt: time.Now().UTC()}
	if _, err := d.NewInsert().Model(t).Exec(ctx); err != nil {
		return nil, fmt.Errorf("store token: %w", err)
	}
	return t, nil
}

// ValidateScope checks that admin tokens have no site and site tokens have one.
func ValidateScope(scope Scope, siteID *int64) error {
	switch scope {
	case ScopeAdmin:
		if siteID != nil {
			return errors.New("an admin token applies to every site: do not give a site")
		}
	case ScopeRead, ScopeWrite:
		if siteID == nil {
			return fmt.Errorf("a %s token needs a site", scope)
		}
	default:
		return fmt.Errorf("unknown scope %q: use admin, read or write", scope)
	}
	return nil
}

// Lookup finds the live token for a secret; ErrUnauthenticated if none.
func Lookup(ctx context.Context, d bun.IDB, secret string) (*Token, error) {
	if secret == "" {
		return nil, ErrUnauthenticated
	}
	var t Token
	err := d.NewSelect().Model(&t).Where("token_hash = ?", Hash(secret)).Where("revoked_at IS NULL").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	return &t, nil
}

// Touch records that a token was used; callers may ignore its error.
func Touch(ctx context.Context, d bun.IDB, id int64) error {
	_, err := d.NewUpdate().Model((*Token)(nil)).Set("last_used_at = ?", time.Now().UTC()).Where("id = ?", id).Exec(ctx)
	return err
}

// List returns all tokens, newest first.
func List(ctx context.Context, d bun.IDB) ([]Token, error) {
	var ts []Token
	err := d.NewSelect().Model(&ts).Order("id DESC").Scan(ctx)
	return ts, err
}

// Revoke marks a token revoked; it reports false when there was none.
func Revoke(ctx context.Context, d bun.IDB, id int64) (bool, error) {
	res, err := d.NewUpdate().Model((*Token)(nil)).Set("revoked_at = ?", time.Now().UTC()).Where("id = ?", id).Where("revoked_at IS NULL").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("revoke token %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Count returns how many live tokens exist.
func Count(ctx context.Context, d bun.IDB) (int64, error) {
	return d.NewSelect().Model((*Token)(nil)).Where("revoked_at IS NULL").Count(ctx)
}

type ctxKey struct{}

// WithToken attaches the caller's token (nil for anonymous) to a context.
func WithToken(ctx context.Context, t *Token) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the caller's token, or nil.
func FromContext(ctx context.Context) *Token {
	t, _ := ctx.Value(ctxKey{}).(*Token)
	return t
}

// RequireAdmin fails unless the caller holds an admin token.
func RequireAdmin(ctx context.Context) error {
	t := FromContext(ctx)
	if t == nil {
		return ErrUnauthenticated
	}
	if t.Scope != ScopeAdmin {
		return ErrForbidden
	}
	return nil
}

// RequireAny fails unless the caller holds some valid token.
func RequireAny(ctx context.Context) (*Token, error) {
	t := FromContext(ctx)
	if t == nil {
		return nil, ErrUnauthenticated
	}
	return t, nil
}

// CanRead fails unless the caller may read the site's data.
func CanRead(ctx context.Context, siteID int64) error {
	t := FromContext(ctx)
	if t == nil {
		return ErrUnauthenticated
	}
	if t.Scope == ScopeAdmin || (t.SiteID != nil && *t.SiteID == siteID) {
		return nil
	}
	return ErrForbidden
}

// CanWrite fails unless the caller may change the site.
func CanWrite(ctx context.Context, siteID int64) error {
	t := FromContext(ctx)
	if t == nil {
		return ErrUnauthenticated
	}
	if t.Scope == ScopeAdmin || (t.Scope == ScopeWrite && t.SiteID != nil && *t.SiteID == siteID) {
		return nil
	}
	return ErrForbidden
}

// VisibleSites returns nil for "all sites" (admin) or the one site a scoped
// token may see.
func VisibleSites(ctx context.Context) (all bool, ids []int64, err error) {
	t := FromContext(ctx)
	if t == nil {
		return false, nil, ErrUnauthenticated
	}
	if t.Scope == ScopeAdmin {
		return true, nil, nil
	}
	return false, []int64{*t.SiteID}, nil
}
