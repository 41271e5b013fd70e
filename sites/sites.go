// Package sites manages tracked websites: creating them with a normalized,
// unique domain and a valid IANA time zone, listing, updating and deleting.
package sites

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
	"github.com/uptrace/bun"
)

var (
	// ErrNotFound means no site matched.
	ErrNotFound = apperr.NotFound("site")
	// ErrDuplicate means another site already has the domain.
	ErrDuplicate = apperr.Invalid("domain", "a site with this domain already exists")
)

// NormalizeDomain lower-cases a domain and strips any scheme, "www.", port,
// path, query and trailing dot, so that "https://WWW.Example.com/x" and
// "example.com" name the same site.
func NormalizeDomain(raw string) (string, error) {
	s := strings.TrimSpace(strings.ToLower(raw))
	if s == "" {
		return "", invalid("domain", "must not be empty")
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return "", invalid("domain", fmt.Sprintf("%q is not a domain or URL", raw))
		}
		s = u.Host
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "www."), ".")
	if s == "" || len(s) > 253 {
		return "", invalid("domain", fmt.Sprintf("%q is not a valid domain", raw))
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", invalid("domain", fmt.Sprintf("%q is not a valid domain", raw))
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return "", invalid("domain", fmt.Sprintf("%q has the invalid character %q", raw, r))
			}
		}
	}
	return s, nil
}

// ValidateTimezone accepts IANA zone names such as "Europe/Berlin" or "UTC".
func ValidateTimezone(tz string) error {
	if tz == "" || tz == "Local" {
		return invalid("timezone", "must be an IANA time zone name such as Europe/Berlin or UTC")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return invalid("timezone", fmt.Sprintf("%q is not an IANA time zone name", tz))
	}
	return nil
}

// Input holds the changeable fields of a site; nil means "leave as is".
type Input struct {
	Domain           *string
	Timezone         *string
	AllowedHostnames []string
	ExcludedIPs      []string
	ExcludedPaths    []string
	HonorDNT         *bool
	RetentionDays    *int
}

// Create adds a site.
func Create(ctx context.Context, d bun.IDB, domain, timezone string) (*db.Site, error) {
	if timezone == "" {
		timezone = "UTC"
	}
	in := Input{Domain: &domain, Timezone: &timezone}
	s := &db.Site{AllowedHostnames: []string{}, ExcludedIPs: []string{}, ExcludedPaths: []string{}}
	if err := apply(s, in); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	s.CreatedAt, s.UpdatedAt = now, now
	if err := checkUnique(ctx, d, s.Domain, 0); err != nil {
		return nil, err
	}
	if _, err := d.NewInsert().Model(s).Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return nil, ErrDuplicate
		}
		return nil, fmt.Errorf("create site %s: %w", s.Domain, err)
	}
	return s, nil
}

// Update changes a site.
func Update(ctx context.Context, d bun.IDB, id int64, in Input) (*db.Site, error) {
	s, err := ByID(ctx, d, id)
	if err != nil {
		return nil, err
	}
	if err := apply(s, in); err != nil {
		return nil, err
	}
	if err := checkUnique(ctx, d, s.Domain, id); err != nil {
		return nil, err
	}
	s.UpdatedAt = time.Now().UTC()
	if _, err := d.NewUpdate().Model(s).WherePK().Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return nil, ErrDuplicate
		}
		return nil, fmt.Errorf("update site %d: %w", id, err)
	}
	return s, nil
}

func apply(s *db.Site, in Input) error {
	if in.Domain != nil {
		dom, err := NormalizeDomain(*in.Domain)
		if err != nil {
			return err
		}
		s.Domain = dom
	}
	if in.Timezone != nil {
		if err := ValidateTimezone(*in.Timezone); err != nil {
			return err
		}
		s.Timezone = *in.Timezone
	}
	if in.AllowedHostnames != nil {
		hs := make([]string, 0, len(in.AllowedHostnames))
		for _, h := range in.AllowedHostnames {
			h = strings.ToLower(strings.TrimSpace(h))
			if h == "" {
				return invalid("allowedHostnames", "must not contain empty names")
			}
			hs = append(hs, h)
		}
		s.AllowedHostnames = hs
	}
	if in.ExcludedIPs != nil {
		for _, c := range in.ExcludedIPs {
			if err := validCIDROrIP(c); err != nil {
				return invalid("excludedIps", err.Error())
			}
		}
		s.ExcludedIPs = in.ExcludedIPs
	}
	if in.ExcludedPaths != nil {
		for _, p := range in.ExcludedPaths {
			if !strings.HasPrefix(p, "/") {
				return invalid("excludedPaths", fmt.Sprintf("%q must start with /", p))
			}
		}
		s.ExcludedPaths = in.ExcludedPaths
	}
	if in.HonorDNT != nil {
		s.HonorDNT = *in.HonorDNT
	}
	if in.RetentionDays != nil {
		if *in.RetentionDays < 0 {
			return invalid("retentionDays", "must be 0 (keep forever) or a positive number of days")
		}
		s.RetentionDays = *in.RetentionDays
	}
	return nil
}

func checkUnique(ctx context.Context, d bun.IDB, domain string, exceptID int64) error {
	n, err := d.NewSelect().Model((*db.Site)(nil)).Where("domain = ?", domain).Where("id <> ?", exceptID).Count(ctx)
	if err != nil {
		return fmt.Errorf("check domain %s: %w", domain, err)
	}
	if n > 0 {
		return ErrDuplicate
	}
	return nil
}

func isUniqueViolation(err error) bool {
	m := err.Error()
	return strings.Contains(m, "UNIQUE constraint failed") || strings.Contains(m, "SQLSTATE 23505")
}

// Delete removes a site and, through the caller, its data.
func Delete(ctx context.Context, d bun.IDB, id int64) error {
	res, err := d.NewDelete().Model((*db.Site)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete site %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ByID finds one site.
func ByID(ctx context.Context, d bun.IDB, id int64) (*db.Site, error) {
	var s db.Site
	err := d.NewSelect().Model(&s).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load site %d: %w", id, err)
	}
	return &s, nil
}

// ByDomain finds one site by any spelling of its domain.
func ByDomain(ctx context.Context, d bun.IDB, domain string) (*db.Site, error) {
	norm, err := NormalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	var s db.Site
	err = d.NewSelect().Model(&s).Where("domain = ?", norm).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load site %s: %w", norm, err)
	}
	return &s, nil
}

// List returns sites ordered by domain; ids limits the result when not nil.
func List(ctx context.Context, d bun.IDB, ids []int64) ([]db.Site, error) {
	var ss []db.Site
	q := d.NewSelect().Model(&ss).Order("domain")
	if ids != nil {
		if len(ids) == 0 {
			return nil, nil
		}
		q = q.Where("id IN (?)", bun.In(ids))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	return ss, nil
}

func invalid(field, reason string) error { return &apperr.InvalidError{Field: field, Reason: reason} }
