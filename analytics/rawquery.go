package analytics

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tallyhq/tally/db"
)

// eachRow runs a raw-table query and calls fn per row. On PostgreSQL it runs
// in a read-only transaction with JIT compilation off (the cost estimates of
// a year of events cross the JIT threshold, and compiling cost more, 70–150
// ms measured, than these index-driven queries take) and random_page_cost
// 1.1, the usual value for SSDs and cached data: with the default 4 the
// planner scanned every visit of a site (2.7 s at 10M events) instead of
// looking up the range's visits by key (0.4 s).
func eachRow(ctx context.Context, d *db.DB, query string, args []any, fn func(*sql.Rows) error) error {
	run := func(q interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	if !d.IsPostgres() {
		return run(d)
	}
	tx, err := d.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1"); err != nil {
		return err
	}
	if err := run(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// eachTextRow is eachRow for the shared scan's large reads on PostgreSQL:
// fn gets each row's values in PostgreSQL's text format, valid only during
// the call. A filtered scan returns 100,000–200,000 rows per request, and
// through database/sql every text column became a new string and every
// number went through a reflective conversion: at 10 M events that
// decoding, not the query, was most of the request's CPU time. Reading the
// raw values lets the scan parse numbers in place and share one string per
// distinct value (see interner).
func eachTextRow(ctx context.Context, d *db.DB, query string, args []any, fn func(vals [][]byte) error) error {
	// bun writes the arguments into the statement as literals, as it does
	// for every query here
	text := d.QueryGen().FormatQuery(query, args...)
	return d.WithPgx(ctx, func(c *pgx.Conn) error {
		pc := c.PgConn()
		// The settings of eachRow, in one round trip, and no parallel
		// workers: the scan already runs two queries at once on two
		// connections while this process decodes their rows, so on a small
		// box workers only compete for the same cores (psql: 165 ms serial
		// against 180 ms with two workers for the covered visit read of a
		// 10 M-event page filter; the dashboard moved within its noise).
		if _, err := pc.Exec(ctx, "BEGIN READ ONLY; SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1; SET LOCAL max_parallel_workers_per_gather = 0").ReadAll(); err != nil {
			return rollbackOrDiscard(pc, err)
		}
		rr := pc.Exec(ctx, text)
		var ferr error
		for rr.NextResult() {
			res := rr.ResultReader()
			for ferr == nil && res.NextRow() {
				ferr = fn(res.Values())
			}
			if _, err := res.Close(); err != nil && ferr == nil {
				ferr = err
			}
		}
		if err := rr.Close(); err != nil && ferr == nil {
			ferr = err
		}
		return rollbackOrDiscard(pc, ferr)
	})
}

// rollbackOrDiscard ends eachTextRow's transaction and returns err; if the
// connection cannot be brought back to idle it tells database/sql to drop it.
func rollbackOrDiscard(pc *pgconn.PgConn, err error) error {
	if _, rerr := pc.Exec(context.Background(), "ROLLBACK").ReadAll(); rerr != nil {
		return errors.Join(err, rerr, driver.ErrBadConn)
	}
	return err
}

// parseInt reads a PostgreSQL integer in text format (visitor hashes use
// the whole int64 range).
func parseInt(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 || len(digits) > 19 {
		return 0, fmt.Errorf("not an integer: %q", b)
	}
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not an integer: %q", b)
		}
		n = n*10 + uint64(c-'0') // 19 digits cannot overflow a uint64
	}
	switch {
	case neg && n <= 1<<63:
		return int64(-n), nil
	case !neg && n < 1<<63:
		return int64(n), nil
	}
	return 0, fmt.Errorf("integer out of range: %q", b)
}

// interner shares one string per distinct value among the rows of a scan
// (sources, countries, browsers and page paths repeat across thousands of
// rows), so decoding a value costs a map lookup instead of an allocation.
type interner map[string]string

func (in interner) get(b []byte) string {
	if len(b) == 0 {
		return "" // most UTM and version columns
	}
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	in[s] = s
	return s
}
