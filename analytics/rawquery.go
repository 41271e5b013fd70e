package analytics

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

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

// eachRowDirect is eachRow for the shared scan's large reads. On PostgreSQL
// it reads through pgx itself instead of database/sql, whose per-column
// conversions cost more than the query when a scan returns 100,000 rows;
// fn gets a function that scans the current row.
func eachRowDirect(ctx context.Context, d *db.DB, query string, args []any, fn func(scan func(dest ...any) error) error) error {
	if !d.IsPostgres() {
		return eachRow(ctx, d, query, args, func(rows *sql.Rows) error { return fn(rows.Scan) })
	}
	// bun writes the arguments into the statement as literals, as it does
	// for every query here
	text := d.QueryGen().FormatQuery(query, args...)
	conn, err := d.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not pgx", dc)
		}
		pc := sc.Conn()
		tx, err := pc.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.Exec(ctx, "SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, text, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows.Scan); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return tx.Commit(ctx)
	})
}
