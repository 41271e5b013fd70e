package costs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
)

// pgWriter streams rows to PostgreSQL with COPY … FROM STDIN in text
// format on the import's own connection (inside its transaction): Bun runs
// over pgx's database/sql driver, so the pgx connection is reached through
// Conn.Raw. Rows are encoded into a pipe that COPY reads while the parser
// keeps going, so nothing accumulates in memory.
type pgWriter struct {
	pw                 *io.PipeWriter
	buf                *bufio.Writer
	done               chan error
	scratch            []byte
	sourceID, importID string
}

var errAborted = errors.New("import aborted")

func newPGWriter(ctx context.Context, conn bun.Conn, sourceID, importID int64) *pgWriter {
	pr, pw := io.Pipe()
	w := &pgWriter{pw: pw, buf: newBuf(pw), done: make(chan error, 1),
		sourceID: strconv.FormatInt(sourceID, 10), importID: strconv.FormatInt(importID, 10)}
	sql := "COPY cost_rows (" + strings.Join(rowColumns(), ", ") + ") FROM STDIN"
	go func() {
		err := conn.Raw(func(dc any) error {
			sc, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("COPY needs the pgx driver, got %T", dc)
			}
			_, err := sc.Conn().PgConn().CopyFrom(ctx, pr, sql)
			return err
		})
		// Unblock the parser if COPY stopped reading early.
		if err != nil {
			pr.CloseWithError(err)
		} else {
			pr.Close()
		}
		w.done <- err
	}()
	return w
}

func (w *pgWriter) write(r *Row) error {
	b := w.scratch[:0]
	b = append(b, w.sourceID...)
	b = append(b, '\t')
	b = append(b, w.importID...)
	for i, c := range columns {
		b = append(b, '\t')
		switch c.kind {
		case kindTime:
			b = strconv.AppendInt(b, c.tm(r).Unix(), 10)
		case kindMoney:
			if t := r.text[i]; t != "" {
				b = append(b, t...)
			} else {
				b = append(b, r.BilledCost.String()...)
			}
		case kindDecimal:
			if d := c.dec(r); d.Valid {
				if t := r.text[i]; t != "" {
					b = append(b, t...)
				} else {
					b = append(b, d.Decimal.String()...)
				}
			} else {
				b = append(b, `\N`...)
			}
		default:
			b = appendCopyText(b, *c.str(r))
		}
	}
	b = append(b, '\n')
	w.scratch = b
	_, err := w.buf.Write(b)
	return err
}

// appendCopyText escapes a value for COPY's text format.
func appendCopyText(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case 0:
			// PostgreSQL text cannot hold NUL; drop it.
		default:
			b = append(b, c)
		}
	}
	return b
}

func (w *pgWriter) close() error {
	if err := w.buf.Flush(); err != nil {
		w.pw.CloseWithError(err)
		<-w.done
		return err
	}
	w.pw.Close()
	return <-w.done
}

func (w *pgWriter) abort() {
	w.pw.CloseWithError(errAborted)
	<-w.done
}

func newBuf(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 256<<10) }
