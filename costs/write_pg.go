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

// copyStream feeds one COPY … FROM STDIN in text format on the import's
// own connection (inside its transaction): Bun runs over pgx's
// database/sql driver, so the pgx connection is reached through Conn.Raw.
// Lines are encoded into a pipe that COPY reads while the caller keeps
// going, so nothing accumulates in memory.
type copyStream struct {
	pw   *io.PipeWriter
	buf  *bufio.Writer
	done chan error
}

var errAborted = errors.New("import aborted")

func newCopyStream(ctx context.Context, conn bun.Conn, sql string) *copyStream {
	pr, pw := io.Pipe()
	s := &copyStream{pw: pw, buf: newBuf(pw), done: make(chan error, 1)}
	go func() {
		err := conn.Raw(func(dc any) error {
			sc, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("COPY needs the pgx driver, got %T", dc)
			}
			_, err := sc.Conn().PgConn().CopyFrom(ctx, pr, sql)
			return err
		})
		// Unblock the writer if COPY stopped reading early.
		if err != nil {
			pr.CloseWithError(err)
		} else {
			pr.Close()
		}
		s.done <- err
	}()
	return s
}

func (s *copyStream) write(line []byte) error {
	_, err := s.buf.Write(line)
	return err
}

// close ends the COPY and returns its outcome.
func (s *copyStream) close() error {
	if err := s.buf.Flush(); err != nil {
		s.pw.CloseWithError(err)
		<-s.done
		return err
	}
	s.pw.Close()
	return <-s.done
}

// abort makes the COPY fail, so that nothing of it is kept.
func (s *copyStream) abort() {
	s.pw.CloseWithError(errAborted)
	<-s.done
}

// pgWriter streams cost rows to PostgreSQL through one copyStream.
type pgWriter struct {
	*copyStream
	scratch            []byte
	sourceID, importID string
}

func newPGWriter(ctx context.Context, conn bun.Conn, sourceID, importID int64) *pgWriter {
	sql := "COPY cost_rows (" + strings.Join(rowColumns(), ", ") + ") FROM STDIN"
	return &pgWriter{copyStream: newCopyStream(ctx, conn, sql),
		sourceID: strconv.FormatInt(sourceID, 10), importID: strconv.FormatInt(importID, 10)}
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
	return w.copyStream.write(b)
}

// appendCopyText escapes a value for COPY's text format. Most values need
// no escaping and are appended whole: appending byte by byte was a tenth of
// the importer's CPU time.
func appendCopyText(b []byte, s string) []byte {
	for {
		i := 0
		for i < len(s) && !copySpecial[s[i]] {
			i++
		}
		b = append(b, s[:i]...)
		if i == len(s) {
			return b
		}
		switch s[i] {
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
		}
		s = s[i+1:]
	}
}

// copySpecial marks the bytes appendCopyText escapes or drops.
var copySpecial = [256]bool{'\\': true, '\t': true, '\n': true, '\r': true, 0: true}

// copySink writes the rows of one rollup table with a single COPY: a
// rollup of sixty thousand rows took 1.6 s as multi-row INSERTs (PostgreSQL
// parsing the statements' literals) and fires the resource totals' trigger
// once instead of once per batch.
type copySink struct {
	cs   *copyStream
	line []byte
}

func newCopySink(ctx context.Context, conn bun.Conn, target string) *copySink {
	return &copySink{cs: newCopyStream(ctx, conn, "COPY "+target+" FROM STDIN")}
}

// add writes one row of int64 and string values, in target's column order.
func (s *copySink) add(row ...any) error {
	b := s.line[:0]
	for i, v := range row {
		if i > 0 {
			b = append(b, '\t')
		}
		switch v := v.(type) {
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case string:
			b = appendCopyText(b, v)
		default:
			return fmt.Errorf("rollup row column %d: cannot copy a %T", i+1, v)
		}
	}
	b = append(b, '\n')
	s.line = b
	return s.cs.write(b)
}

func (s *copySink) flush() error { return s.cs.close() }

func (s *copySink) abort() { s.cs.abort() }

func newBuf(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 256<<10) }
