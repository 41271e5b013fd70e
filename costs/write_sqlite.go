package costs

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// sqliteBatch is the number of rows per INSERT statement.
const sqliteBatch = 100

// sqliteWriter inserts rows in multi-row INSERTs inside the import's
// transaction. Values are written into the statement as SQL literals rather
// than bound: the pure-Go driver matches every bound parameter against the
// argument list with a linear scan, which made binding 59 parameters per
// row cost more than SQLite's own work (see bench/costs.md). The literals
// are safe: numbers are formatted here and strings are quoted with ”
// doubling, NUL dropped.
type sqliteWriter struct {
	ctx                context.Context
	tx                 *sql.Tx
	prefix             string
	buf                []byte
	n                  int
	sourceID, importID string
}

func newSQLiteWriter(ctx context.Context, tx *sql.Tx, sourceID, importID int64) (*sqliteWriter, error) {
	return &sqliteWriter{ctx: ctx, tx: tx,
		prefix:   "INSERT INTO cost_rows (" + strings.Join(rowColumns(), ", ") + ") VALUES ",
		sourceID: strconv.FormatInt(sourceID, 10), importID: strconv.FormatInt(importID, 10)}, nil
}

func appendSQLString(b []byte, s string) []byte {
	b = append(b, '\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b = append(b, '\'', '\'')
		case 0:
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}

func (w *sqliteWriter) write(r *Row) error {
	if w.n == 0 {
		w.buf = append(w.buf[:0], w.prefix...)
	} else {
		w.buf = append(w.buf, ',')
	}
	b := append(w.buf, '(')
	b = append(b, w.sourceID...)
	b = append(b, ',')
	b = append(b, w.importID...)
	for i, c := range columns {
		b = append(b, ',')
		switch c.kind {
		case kindTime:
			b = strconv.AppendInt(b, c.tm(r).Unix(), 10)
		case kindMoney:
			if t := r.text[i]; t != "" {
				b = appendSQLString(b, t)
			} else {
				b = appendSQLString(b, r.BilledCost.String())
			}
		case kindDecimal:
			if d := c.dec(r); !d.Valid {
				b = append(b, "NULL"...)
			} else if t := r.text[i]; t != "" {
				b = appendSQLString(b, t)
			} else {
				b = appendSQLString(b, d.Decimal.String())
			}
		default:
			b = appendSQLString(b, *c.str(r))
		}
	}
	w.buf = append(b, ')')
	w.n++
	if w.n == sqliteBatch {
		return w.flush()
	}
	return nil
}

func (w *sqliteWriter) flush() error {
	if w.n == 0 {
		return nil
	}
	w.n = 0
	if _, err := w.tx.ExecContext(w.ctx, string(w.buf)); err != nil {
		return fmt.Errorf("insert cost rows: %w", err)
	}
	return nil
}

func (w *sqliteWriter) close() error { return w.flush() }

func (w *sqliteWriter) abort() {}
