package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/imgorigin/imgorigin/migrate"
	"github.com/imgorigin/imgorigin/role"
	"github.com/imgorigin/imgorigin/server"
)

const migrateUsage = `Usage: imgorigin migrate plan|work|status|report|export [flags]

  plan    list --source by group and enqueue one job per group not done
  work    take jobs and migrate them (--drain: exit 0 when none are left)
  status  progress: groups, photos, queue, dead letters, rate, ETA
  report  objects and bytes before and after
  export  the old -> new key mapping (--format csv|jsonl)
`

// migrateCmd runs `imgorigin migrate SUB`.
func migrateCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, migrateUsage)
		return fmt.Errorf("migrate: which step?")
	}
	sub := args[0]
	fs := flag.NewFlagSet("migrate "+sub, flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	source := fs.String("source", "", "the legacy store URL (file://... or s3://...)")
	originals := fs.String("originals", "legacy/{group}/{photo}.jpg", "template of legacy originals' keys")
	thumbnails := fs.String("thumbnails", "legacy/{group}/{photo}_{size}.jpg", "template of legacy thumbnails' keys")
	stateDir := fs.String("state", "", "directory of the embedded queue and progress store (default DATA/migrate)")
	queueURL := fs.String("queue", "", "sqs://NAME[?endpoint=URL&region=R] for runs on many machines (default: the embedded queue)")
	dbURL := fs.String("db", "", "postgres://... progress store for runs on many machines (default: embedded SQLite)")
	wc := migrate.DefaultWorkerConfig()
	fs.IntVar(&wc.Concurrency, "workers", wc.Concurrency, "jobs (groups) this process runs at once")
	fs.DurationVar(&wc.Visibility, "visibility", wc.Visibility, "how long a taken job stays hidden; extended while it runs")
	fs.BoolVar(&wc.DeleteOriginals, "delete-originals", wc.DeleteOriginals, "also delete legacy originals once replaced and verified")
	fs.Float64Var(&wc.DeleteRate, "delete-rate", wc.DeleteRate, "legacy objects deleted per second, at most (per process)")
	fs.BoolVar(&wc.Drain, "drain", false, "exit 0 once no jobs are left (scripts, Kubernetes Jobs)")
	storeRate := fs.Float64("store-rate", 0, "requests per second to each store, at most (0: unbounded)")
	maxAttempts := fs.Int("max-attempts", 5, "deliveries of a job before it is dead-lettered")
	format := fs.String("format", "csv", "export: csv or jsonl")
	var adminAddr string
	adminAddrFlag(fs, &adminAddr)
	progressEvery := fs.Duration("progress-interval", 30*time.Second, "work: how often to log progress (done of total, rate, ETA, queue)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	log, err := sf.logger()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if sub == "work" { // before the stores' clients are made, which trace their calls
		stopTracing, err := startTracing(ctx, "imgorigin-migrate", log)
		if err != nil {
			return err
		}
		defer stopTracing()
	}
	m, err := role.OpenMigration(ctx, role.MigrationConfig{Stores: sf.Stores, Source: *source, Originals: *originals, Thumbnails: *thumbnails,
		StateDir: *stateDir, DB: *dbURL, QueueURL: *queueURL, MaxAttempts: *maxAttempts, StoreRate: *storeRate, Worker: wc, ProgressEvery: *progressEvery})
	if err != nil {
		return err
	}
	defer m.Close()
	state, queue := m.State, m.Queue
	switch sub {
	case "plan":
		src, err := m.Source(ctx)
		if err != nil {
			return err
		}
		res, err := migrate.Plan(ctx, src, m.Layout, state, queue)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "groups %d (%d already done), photos %d, thumbnails %d, enqueued %d, keys fitting neither template %d\n",
			res.Groups, res.AlreadyDone, res.Photos, res.Thumbnails, res.Enqueued, res.Unmatched)
		if res.Groups == 0 {
			fmt.Fprintf(stdout, "nothing to migrate: %d keys under %q in %s, none fitting --originals %q; the templates name keys relative to the source's root\n",
				res.Unmatched, m.Layout.Prefix(), *source, *originals)
		}
		return nil
	case "work":
		if err := startVips(log); err != nil {
			return err
		}
		// The admin listener of every role, alone: metrics and probes.
		admin := server.New(server.Config{AdminAddr: adminAddr}, nil, log)
		registerBuildInfo(admin.Registry)
		defer serveAdmin(ctx, admin, log)()
		return m.Work(ctx, admin.Registry, log)
	case "status", "report":
		st, err := state.Stats(ctx)
		if err != nil {
			return err
		}
		if sub == "status" {
			pending, dead, err := queue.Counts(ctx)
			if err != nil {
				return err
			}
			migrate.WriteStatus(stdout, st, pending, dead)
		} else {
			migrate.WriteReport(stdout, st)
		}
		return nil
	case "export":
		return state.Export(ctx, stdout, *format)
	}
	fmt.Fprint(os.Stderr, migrateUsage)
	return fmt.Errorf("migrate: unknown step %q", sub)
}
