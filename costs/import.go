package costs

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tallyhq/tally/db"
)

// ImportOptions tune a FOCUS file import.
type ImportOptions struct {
	// Name identifies the file in the import record and in errors.
	Name string
	// SkipInvalid imports the valid rows and counts the others; without it
	// one invalid row means nothing is imported.
	SkipInvalid bool
}

// ImportResult is the outcome of a file import.
type ImportResult struct {
	Import *Import
	// Errors are the first invalid rows (at most 20) when SkipInvalid is set.
	Errors []RowError
}

// ImportFOCUS streams a FOCUS CSV file (plain or gzip, detected from its
// first bytes) into the store. A newer export of the same provider, billing
// account and billing period replaces the rows of the earlier one, so
// importing the same file twice changes nothing.
func ImportFOCUS(ctx context.Context, d *db.DB, r io.Reader, opts ImportOptions) (*ImportResult, error) {
	if opts.Name == "" {
		opts.Name = "focus.csv"
	}
	br := bufio.NewReaderSize(r, 1<<20)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opts.Name, err)
		}
		defer gz.Close()
		in = gz
	}
	fr, err := newFocusReader(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Name, err)
	}
	res := &ImportResult{}
	rec := &Import{Kind: "file", Name: opts.Name}
	var row Row
	produce := func(emit func(*Row) error) error {
		var invalid *InvalidError
		for {
			_, errs, err := fr.next(&row)
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", opts.Name, err)
			}
			if errs != nil {
				rec.RowsSkipped++
				if opts.SkipInvalid {
					if len(res.Errors) < maxListedErrors {
						res.Errors = append(res.Errors, errs[0])
					}
					continue
				}
				if invalid == nil {
					invalid = &InvalidError{Name: opts.Name}
				}
				invalid.Invalid++
				for _, e := range errs {
					if len(invalid.Errors) < maxListedErrors {
						invalid.Errors = append(invalid.Errors, e)
					}
				}
				if len(invalid.Errors) >= maxListedErrors {
					return invalid
				}
				continue
			}
			if invalid != nil {
				continue // already refused; keep reading only to list errors
			}
			if err := emit(&row); err != nil {
				return err
			}
		}
		if invalid != nil {
			return invalid
		}
		return nil
	}
	imp, err := ingest(ctx, d, rec, replacement{export: true}, produce)
	res.Import = imp
	if err != nil {
		var inv *InvalidError
		if errors.As(err, &inv) {
			return res, inv
		}
		return res, err
	}
	return res, nil
}
