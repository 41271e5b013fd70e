package costs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
)

// Source is a provider of cost data (a cloud bill API, an LLM vendor's
// usage API, a Kubernetes allocator). Pull yields the FOCUS rows charged in
// [from, to) (UTC days); it is called again for the same window when late
// bills arrive, and its rows replace the earlier ones of that window.
type Source interface {
	Pull(ctx context.Context, from, to time.Time, yield func(*Row) error) error
}

// Factory builds a Source from its stored configuration. Package providers
// supplies one per kind; cmd registers them.
type Factory func(cfg SourceConfig) (Source, error)

// SourceConfig is a configured provider connection (table cost_sources).
// Credentials is secret: it is never returned by the API nor logged.
type SourceConfig struct {
	bun.BaseModel `bun:"table:cost_sources"`

	ID           int64             `bun:"id,pk,autoincrement"`
	Name         string            `bun:"name,notnull"`
	Kind         string            `bun:"kind,notnull"`
	BaseURL      string            `bun:"base_url,notnull"`
	Settings     map[string]string `bun:"settings,type:json,notnull"`
	Credentials  string            `bun:"credentials,notnull" json:"-"`
	LookbackDays int               `bun:"lookback_days,notnull"`
	CreatedAt    time.Time         `bun:"created_at,notnull"`
}

// LogValue keeps the credentials out of structured logs.
func (c SourceConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", c.ID), slog.String("name", c.Name), slog.String("kind", c.Kind))
}

// Sources manages provider connections and runs their syncs.
type Sources struct {
	DB        *db.DB
	Factories map[string]Factory
	Log       *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Sources) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Sources) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Kinds lists the registered provider kinds.
func (s *Sources) Kinds() []string {
	var out []string
	for k := range s.Factories {
		out = append(out, k)
	}
	return out
}

// Create stores a new source after checking that its kind exists and that
// a Source can be built from it.
func (s *Sources) Create(ctx context.Context, cfg SourceConfig) (*SourceConfig, error) {
	cfg.Name = strings.TrimSpace(cfg.Name)
	if cfg.Name == "" {
		return nil, apperr.Invalid("name", "is required")
	}
	f, ok := s.Factories[cfg.Kind]
	if !ok {
		return nil, apperr.Invalid("kind", "unknown provider %q (known: %s)", cfg.Kind, strings.Join(s.Kinds(), ", "))
	}
	if cfg.LookbackDays == 0 {
		cfg.LookbackDays = 7
	}
	if cfg.LookbackDays < 1 || cfg.LookbackDays > 400 {
		return nil, apperr.Invalid("lookbackDays", "must be between 1 and 400")
	}
	if cfg.Settings == nil {
		cfg.Settings = map[string]string{}
	}
	if _, err := f(cfg); err != nil {
		return nil, apperr.Invalid("input", "%v", err)
	}
	cfg.CreatedAt = s.now()
	if _, err := s.DB.NewInsert().Model(&cfg).Exec(ctx); err != nil {
		if strings.Contains(strings.ToLower(err.Error()), "unique") {
			return nil, apperr.Invalid("name", "a cost source named %q exists", cfg.Name)
		}
		return nil, fmt.Errorf("create cost source: %w", err)
	}
	return &cfg, nil
}

// List returns every source, oldest first.
func (s *Sources) List(ctx context.Context) ([]SourceConfig, error) {
	var out []SourceConfig
	if err := s.DB.NewSelect().Model(&out).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list cost sources: %w", err)
	}
	return out, nil
}

// Get returns one source.
func (s *Sources) Get(ctx context.Context, id int64) (*SourceConfig, error) {
	var c SourceConfig
	if err := s.DB.NewSelect().Model(&c).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.NotFound("cost source")
		}
		return nil, fmt.Errorf("cost source %d: %w", id, err)
	}
	return &c, nil
}

// ByName returns one source by its name.
func (s *Sources) ByName(ctx context.Context, name string) (*SourceConfig, error) {
	var c SourceConfig
	if err := s.DB.NewSelect().Model(&c).Where("name = ?", name).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.NotFound("cost source")
		}
		return nil, fmt.Errorf("cost source %q: %w", name, err)
	}
	return &c, nil
}

// Delete removes a source and the rows it synced.
func (s *Sources) Delete(ctx context.Context, id int64) (bool, error) {
	var found bool
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*SourceConfig)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		found = n > 0
		if !found {
			return nil
		}
		lo, hi, err := dailySpan(ctx, tx, "source_id = ?", id)
		if err != nil {
			return err
		}
		for _, t := range []string{"cost_rows", "cost_daily", "cost_tag_daily", "cost_resource_monthly"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE source_id = ?", id); err != nil {
				return err
			}
		}
		return refreshDimRollup(ctx, tx, s.DB.IsPostgres(), dayRange{lo, hi})
	})
	if err != nil {
		return false, fmt.Errorf("delete cost source %d: %w", id, err)
	}
	return found, nil
}

// Sync pulls the last days of a source again (its lookback unless days is
// set) and replaces the rows it synced for that window. Every sync is
// recorded in cost_imports, failures included.
func (s *Sources) Sync(ctx context.Context, id int64, days int) (*Import, error) {
	cfg, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if days == 0 {
		days = cfg.LookbackDays
	}
	if days < 1 || days > 400 {
		return nil, apperr.Invalid("days", "must be between 1 and 400")
	}
	f, ok := s.Factories[cfg.Kind]
	if !ok {
		return nil, fmt.Errorf("cost source %s: provider %q is not available in this build", cfg.Name, cfg.Kind)
	}
	src, err := f(*cfg)
	if err != nil {
		return nil, fmt.Errorf("cost source %s: %w", cfg.Name, err)
	}
	to := time.Unix(dayOf(s.now()), 0).UTC().AddDate(0, 0, 1) // today included
	from := to.AddDate(0, 0, -days)
	ws, we := from.Unix(), to.Unix()
	rec := &Import{Kind: "sync", SourceID: cfg.ID, Name: cfg.Name, WindowStart: &ws, WindowEnd: &we}
	start := time.Now()
	imp, err := ingest(ctx, s.DB, rec, replacement{sourceID: cfg.ID, from: from, to: to}, func(emit func(*Row) error) error {
		return src.Pull(ctx, from, to, func(r *Row) error {
			if errs := r.complete(0); errs != nil {
				rec.RowsSkipped++
				return nil
			}
			if r.ChargePeriodStart.Before(from) || !r.ChargePeriodStart.Before(to) {
				rec.RowsSkipped++ // outside the window it replaces
				return nil
			}
			if r.BillingCurrency == "" {
				r.BillingCurrency = "USD"
			}
			return emit(r)
		})
	})
	l := s.log().With("source", cfg, "window_days", days, "duration", time.Since(start).Round(time.Millisecond))
	if err != nil {
		// Vendors sometimes echo (part of) the key in error bodies; the
		// recorded and returned error must not carry it.
		err = redactErr(err, cfg.Credentials)
		if imp != nil && cfg.Credentials != "" && strings.Contains(imp.Error, cfg.Credentials) {
			imp.Error = strings.ReplaceAll(imp.Error, cfg.Credentials, "[redacted]")
			_, _ = s.DB.NewUpdate().Model(imp).Column("error").WherePK().Exec(context.WithoutCancel(ctx))
		}
		l.Warn("cost sync failed", "err", err)
		return imp, fmt.Errorf("sync %s: %w", cfg.Name, err)
	}
	l.Info("cost sync", "rows", imp.RowsImported, "replaced", imp.RowsReplaced, "skipped", imp.RowsSkipped)
	return imp, nil
}

// SyncAll syncs every source, one after the other, for the daily job. A
// failing source does not stop the others; the errors are joined.
func (s *Sources) SyncAll(ctx context.Context) error {
	list, err := s.List(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range list {
		if _, err := s.Sync(ctx, c.ID, 0); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Imports returns the latest imports and syncs, newest first; sourceID 0
// lists all of them.
func Imports(ctx context.Context, d *db.DB, sourceID int64, limit int) ([]Import, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var out []Import
	q := d.NewSelect().Model(&out).Order("id DESC").Limit(int64(limit))
	if sourceID > 0 {
		q = q.Where("source_id = ?", sourceID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list cost imports: %w", err)
	}
	return out, nil
}

// LastSync returns the latest sync of a source, or nil.
func LastSync(ctx context.Context, d *db.DB, sourceID int64) (*Import, error) {
	l, err := Imports(ctx, d, sourceID, 1)
	if err != nil || len(l) == 0 {
		return nil, err
	}
	return &l[0], nil
}

type redacted struct{ msg string }

func (r redacted) Error() string { return r.msg }

func redactErr(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return redacted{strings.ReplaceAll(err.Error(), secret, "[redacted]")}
}
