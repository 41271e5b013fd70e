package analytics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
)

// GoalKind tells pageview goals from custom-event goals.
type GoalKind string

const (
	GoalPageview GoalKind = "pageview"
	GoalEvent    GoalKind = "event"
)

// Goal is a conversion: a pageview of a path pattern (where * matches any
// characters) or a custom event name.
type Goal struct {
	bun.BaseModel `bun:"table:analytics_goals"`

	ID        int64    `bun:"id,pk,autoincrement"`
	SiteID    int64    `bun:"site_id,notnull"`
	Name      string   `bun:"name,notnull"`
	Kind      GoalKind `bun:"kind,notnull"`
	PagePath  string   `bun:"page_path,notnull"`
	EventName string   `bun:"event_name,notnull"`
	CreatedAt int64    `bun:"created_at,notnull"`
}

// PathRegexp turns a page pattern into an anchored regular expression.
func PathRegexp(pattern string) string {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return "^" + strings.Join(parts, ".*") + "$"
}

// Matches reports whether an event completes the goal.
func (g *Goal) Matches(name, pathname string) bool {
	if g.Kind == GoalEvent {
		return name == g.EventName
	}
	if name != "pageview" {
		return false
	}
	ok, _ := regexp.MatchString(PathRegexp(g.PagePath), pathname)
	return ok
}

// GoalInput describes a new goal: exactly one of PagePath and EventName.
type GoalInput struct {
	Name      string
	PagePath  string
	EventName string
}

// CreateGoal validates and stores a goal.
func CreateGoal(ctx context.Context, d *db.DB, siteID int64, in GoalInput) (*Goal, error) {
	in.PagePath, in.EventName = strings.TrimSpace(in.PagePath), strings.TrimSpace(in.EventName)
	g := &Goal{SiteID: siteID, Name: strings.TrimSpace(in.Name), CreatedAt: time.Now().Unix()}
	switch {
	case in.PagePath != "" && in.EventName != "":
		return nil, apperr.Invalid("input", "give either pagePath or eventName, not both")
	case in.PagePath != "":
		if !strings.HasPrefix(in.PagePath, "/") {
			return nil, apperr.Invalid("input.pagePath", "%q must start with /", in.PagePath)
		}
		g.Kind, g.PagePath = GoalPageview, in.PagePath
		if g.Name == "" {
			g.Name = "Visit " + in.PagePath
		}
	case in.EventName != "":
		g.Kind, g.EventName = GoalEvent, in.EventName
		if g.Name == "" {
			g.Name = in.EventName
		}
	default:
		return nil, apperr.Invalid("input", "give pagePath or eventName")
	}
	if len(g.Name) > 200 || len(g.PagePath) > 2000 || len(g.EventName) > 200 {
		return nil, apperr.Invalid("input", "name, pagePath or eventName is too long")
	}
	n, err := d.NewSelect().Model((*Goal)(nil)).Where("site_id = ? AND name = ?", siteID, g.Name).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("create goal: %w", err)
	}
	if n > 0 {
		return nil, apperr.Invalid("input.name", "a goal named %q already exists", g.Name)
	}
	if _, err := d.NewInsert().Model(g).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create goal: %w", err)
	}
	return g, nil
}

// Goals lists a site's goals by id.
func Goals(ctx context.Context, d *db.DB, siteID int64) ([]Goal, error) {
	var out []Goal
	if err := d.NewSelect().Model(&out).Where("site_id = ?", siteID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list goals: %w", err)
	}
	return out, nil
}

// GoalByID loads one goal; NOT_FOUND when it is missing.
func GoalByID(ctx context.Context, d *db.DB, id int64) (*Goal, error) {
	g := new(Goal)
	if err := d.NewSelect().Model(g).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.NotFound(fmt.Sprintf("goal %d", id))
		}
		return nil, fmt.Errorf("load goal %d: %w", id, err)
	}
	return g, nil
}

// DeleteGoal removes a goal.
func DeleteGoal(ctx context.Context, d *db.DB, id int64) error {
	if _, err := d.NewDelete().Model((*Goal)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete goal %d: %w", id, err)
	}
	return nil
}

// GoalsOf lists the goals of several sites in one query (for dataloaders);
// every requested site has an entry.
func GoalsOf(ctx context.Context, d *db.DB, siteIDs []int64) (map[int64][]Goal, error) {
	var all []Goal
	if err := d.NewSelect().Model(&all).Where("site_id IN (?)", bun.In(siteIDs)).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list goals: %w", err)
	}
	out := make(map[int64][]Goal, len(siteIDs))
	for _, id := range siteIDs {
		out[id] = []Goal{}
	}
	for _, g := range all {
		out[g.SiteID] = append(out[g.SiteID], g)
	}
	return out, nil
}
