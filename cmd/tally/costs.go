package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/providers/costsrc"
)

// newCostSources is the cost sync service with every provider of this build.
func newCostSources(d *db.DB, log *slog.Logger) *costs.Sources {
	return &costs.Sources{DB: d, Factories: costsrc.Factories(), Log: log}
}

// cmdImport is `tally import focus FILE...`.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: tally import focus [--skip-invalid] FILE... (CSV or CSV.gz, - for stdin)"
	if len(args) == 0 || args[0] != "focus" {
		return errors.New(usage)
	}
	fs, vals := flagSet("import focus", stderr)
	skip := fs.Bool("skip-invalid", false, "import the valid rows and report the invalid ones instead of importing nothing")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New(usage)
	}
	_, d, err := configuredDB(ctx, vals)
	if err != nil {
		return err
	}
	defer d.Close()
	for _, name := range fs.Args() {
		if err := importOne(ctx, d, name, *skip, stdout); err != nil {
			return err
		}
	}
	// The rows are in; the index that speeds up resource breakdowns is
	// derived from them, and queries do without it until it is rebuilt
	// (a running server does that too), so a failure here is a warning.
	if _, err := costs.RefreshResourceIndex(ctx, d); err != nil {
		fmt.Fprintf(stderr, "warning: %v (resource breakdowns stay exact, only slower, until a server rebuilds it)\n", err)
	}
	return nil
}

func importOne(ctx context.Context, d *db.DB, name string, skip bool, stdout io.Writer) error {
	var r io.Reader = os.Stdin
	shown := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r, shown = f, filepath.Base(name)
	}
	res, err := costs.ImportFOCUS(ctx, d, r, costs.ImportOptions{Name: shown, SkipInvalid: skip})
	if err != nil {
		return err
	}
	imp := res.Import
	fmt.Fprintf(stdout, "%s: imported %d rows, replaced %d, skipped %d invalid\n", shown, imp.RowsImported, imp.RowsReplaced, imp.RowsSkipped)
	for _, e := range res.Errors {
		fmt.Fprintf(stdout, "  %s\n", e)
	}
	return nil
}

// cmdCosts is `tally costs source add|list|delete` and `tally costs sync`.
func cmdCosts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = `usage:
  tally costs source add --name N --kind aws|openai|anthropic|opencost [--base-url URL] [--lookback-days 7] [--setting k=v]... (credentials from TALLY_COST_CREDENTIALS or stdin)
  tally costs source list
  tally costs source delete NAME
  tally costs sync [--days N] [NAME...]`
	if len(args) == 0 {
		return errors.New(usage)
	}
	sub := args[0]
	rest := args[1:]
	if sub == "source" {
		if len(rest) == 0 {
			return errors.New(usage)
		}
		sub, rest = "source "+rest[0], rest[1:]
	}
	fs, vals := flagSet("costs "+sub, stderr)
	name := fs.String("name", "", "source name")
	kind := fs.String("kind", "", "provider: aws, openai, anthropic or opencost")
	base := fs.String("base-url", "", "vendor API endpoint override")
	lookback := fs.Int("lookback-days", 7, "days each sync pulls again")
	days := fs.Int("days", 0, "days to pull (default: each source's lookback)")
	var settings multiFlag
	fs.Var(&settings, "setting", "a non-secret setting key=value (repeatable), such as accountId=123 or organization=org-1")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	cfg, d, err := configuredDB(ctx, vals)
	if err != nil {
		return err
	}
	defer d.Close()
	s := newCostSources(d, newLogger(cfg, stderr))
	switch sub {
	case "source add":
		sc := costs.SourceConfig{Name: *name, Kind: *kind, BaseURL: *base, LookbackDays: *lookback, Settings: map[string]string{}}
		for _, kv := range settings {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("--setting %q: want key=value", kv)
			}
			sc.Settings[k] = v
		}
		// Credentials never go on the command line, where ps and shell
		// history would see them.
		sc.Credentials = os.Getenv("TALLY_COST_CREDENTIALS")
		if sc.Credentials == "" && *kind != "opencost" {
			fmt.Fprintln(stderr, "reading the credentials from stdin (one line)")
			line, err := readLine(os.Stdin)
			if err != nil {
				return fmt.Errorf("read credentials: %w", err)
			}
			sc.Credentials = line
		}
		c, err := s.Create(ctx, sc)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added cost source %d (%s, %s)\n", c.ID, c.Name, c.Kind)
	case "source list":
		list, err := s.List(ctx)
		if err != nil {
			return err
		}
		for _, c := range list {
			last := "never synced"
			if l, err := costs.LastSync(ctx, d, c.ID); err == nil && l != nil {
				last = fmt.Sprintf("last sync %s: %s, %d rows", l.StartedAt.Format("2006-01-02 15:04"), l.Status, l.RowsImported)
			}
			fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\n", c.ID, c.Name, c.Kind, last)
		}
	case "source delete":
		if fs.NArg() != 1 {
			return errors.New(usage)
		}
		c, err := s.ByName(ctx, fs.Arg(0))
		if err != nil {
			return fmt.Errorf("cost source %q: %w", fs.Arg(0), err)
		}
		if _, err := s.Delete(ctx, c.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted cost source %s and its rows\n", c.Name)
	case "sync":
		list, err := s.List(ctx)
		if err != nil {
			return err
		}
		want := map[string]bool{}
		for _, n := range fs.Args() {
			want[n] = true
		}
		var errs []error
		for _, c := range list {
			if len(want) > 0 && !want[c.Name] {
				continue
			}
			delete(want, c.Name)
			imp, err := s.Sync(ctx, c.ID, *days)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			fmt.Fprintf(stdout, "%s: %d rows, replaced %d\n", c.Name, imp.RowsImported, imp.RowsReplaced)
		}
		for n := range want {
			errs = append(errs, fmt.Errorf("no cost source named %q", n))
		}
		return errors.Join(errs...)
	default:
		return errors.New(usage)
	}
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string {
	s := append([]string{}, *m...)
	sort.Strings(s)
	return strings.Join(s, ",")
}
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func readLine(r io.Reader) (string, error) {
	var b []byte
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			b = append(b, buf[0])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return strings.TrimSpace(string(b)), nil
}
