// Package db opens Tally's store (SQLite or PostgreSQL through Bun), runs the
// embedded migrations and holds the models shared by several domains.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" database/sql driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// Kind names the SQL dialect behind a DB.
type Kind string

const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// DB is a Bun handle plus the facts about it that domain code branches on.
type DB struct {
	*bun.DB
	Kind Kind
	// Redacted is the connection URL with any password removed, safe to log.
	Redacted string
}

// IsPostgres reports whether the store is PostgreSQL.
func (d *DB) IsPostgres() bool { return d.Kind == Postgres }

// Open connects to a store given as `sqlite:PATH` or `postgres://...` and
// checks that it answers. Error messages never contain the password.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(rawURL, "sqlite:"))
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL)
	case rawURL == "":
		return nil, errors.New("database URL is empty: use sqlite:PATH or postgres://user@host:5432/db")
	default:
		return nil, fmt.Errorf("database URL %q: unsupported scheme, use sqlite:PATH or postgres://user@host:5432/db", Redact(rawURL))
	}
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	path = strings.TrimPrefix(path, "//")
	if path == "" {
		return nil, errors.New("database URL sqlite: needs a file path, for example sqlite:tally-data/tally.db")
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path != ":memory:" {
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("database sqlite:%s: create directory: %w", path, err)
			}
		}
	}
	// Pragmas go in the DSN so that every pooled connection gets them, not
	// only the first one.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	// Open through the underlying driver's own name (modernc's "sqlite" here)
	// rather than the shim, so SQL functions registered with the driver, such
	// as analytics' tally_regexp, exist on every connection.
	sqldb, err := sql.Open(sqliteshim.DriverName(), dsn)
	if err != nil {
		return nil, fmt.Errorf("database sqlite:%s: %w", path, err)
	}
	// SQLite allows one writer; a small pool avoids lock storms while WAL
	// still lets readers proceed.
	sqldb.SetMaxOpenConns(4)
	d := &DB{DB: bun.NewDB(sqldb, sqlitedialect.New()), Kind: SQLite, Redacted: "sqlite:" + path}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.PingContext(pctx); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("database sqlite:%s: %w", path, err)
	}
	return d, nil
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database URL is not a valid postgres:// URL: %s", strings.ReplaceAll(err.Error(), rawURL, Redact(rawURL)))
	}
	if u.Host == "" {
		return nil, errors.New("database URL postgres:// needs a host, for example postgres://user@localhost:5432/tally")
	}
	sqldb, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", Redact(rawURL), err)
	}
	sqldb.SetMaxOpenConns(20)
	sqldb.SetMaxIdleConns(10)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	d := &DB{DB: bun.NewDB(sqldb, pgdialect.New()), Kind: Postgres, Redacted: Redact(rawURL)}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.PingContext(pctx); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("database at %s is not reachable: %s", u.Host, scrub(err.Error(), u))
	}
	return d, nil
}

// Redact returns the URL without its password.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparseable URL)"
		}
		return rawURL
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func scrub(msg string, u *url.URL) string {
	if u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return msg
}

// WithPgx runs fn on one pgx connection of a PostgreSQL pool, for what
// database/sql does badly: binary bytea in and out, the raw text of many
// rows. A connection that fn leaves inside a transaction is dropped from
// the pool rather than reused.
func (d *DB) WithPgx(ctx context.Context, fn func(*pgx.Conn) error) error {
	conn, err := d.DB.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not pgx", dc)
		}
		err := fn(sc.Conn())
		if sc.Conn().PgConn().TxStatus() != 'I' {
			return errors.Join(err, driver.ErrBadConn)
		}
		return err
	})
}
