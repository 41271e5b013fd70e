// Command tally is Tally's single binary: the server and its maintenance
// commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	name, usage string
	run         func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the server (--demo loads demo data into an empty database)", cmdServe},
		{"migrate", "apply migrations (migrate [up|status|down])", cmdMigrate},
		{"demo", "load demo data into the database", cmdDemo},
		{"token", "manage API tokens (token create --name N --scope admin|read|write [--site DOMAIN])", cmdToken},
		{"import", "import cost data (import focus [--skip-invalid] FILE... ; CSV or CSV.gz, - for stdin)", cmdImport},
		{"costs", "cost sources (costs source add|list|delete, costs sync [NAME...])", cmdCosts},
		{"insights", "run insights now (insights run [--from YYYY-MM-DD --to YYYY-MM-DD] [--dry-run])", cmdInsights},
		{"site", "manage sites (site add DOMAIN [--timezone TZ])", cmdSite},
		{"healthcheck", "exit 0 if the local server answers /healthz (for container health checks)", cmdHealthcheck},
		{"version", "print the version", func(_ context.Context, _ []string, out, _ io.Writer) error {
			_, err := fmt.Fprintln(out, "tally", version)
			return err
		}},
	}
}

// defaultGCPercent replaces Go's GOGC=100 unless GOGC is set. Under event
// load the collector allocates a few KB per request that die at once; GC was
// a quarter of the server's CPU at 100, and 200 moved PostgreSQL ingestion
// from about 19,200 to 20,500 events/s on two cores (bench/collect.md) at the
// price of a larger heap, which the bounded event queue still caps.
const defaultGCPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			if err != nil {
				fmt.Fprintf(stderr, "tally %s: %v\n", c.name, err)
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "tally: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: tally COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "\nEvery command takes the configuration flags; run `tally serve -h` to list them.")
}
