package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/imgorigin/imgorigin/bench"
)

// listFlag is a repeatable (or comma-separated) string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	cfg := bench.DefaultConfig()
	var scenarios, keys listFlag
	fs.Var(&scenarios, "scenario", "scenario to run, repeatable: "+strings.Join(bench.Scenarios, ", ")+" (default: all of these), or the opt-in migrate (legacy photos through the migration worker), regions (local, replica and remote reads; needs --regions-s3-endpoint) views (bytes a view and butteraugli distance per format and size; needs the butteraugli command) and quality (each format's bytes and butteraugli distance per encoder quality and size, the quality map's source; needs butteraugli)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured time per scenario")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "unmeasured time before each scenario")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "closed loop: requests in flight (and render slots in-process)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "open loop: requests per second on a fixed schedule (0: closed loop)")
	fs.StringVar(&cfg.Corpus, "corpus", "", "directory of photos (.jpg .png .webp); default: generated photo-like images")
	fs.StringVar(&cfg.URL, "url", "", "a running server to load; default: start one in-process on the embedded store")
	fs.StringVar(&cfg.AdminURL, "admin-url", "", "with --url: its admin listener, for cache and store figures")
	fs.Var(&keys, "keys", "with --url: keys of originals on it, comma-separated")
	fs.IntVar(&cfg.MigratePhotos, "migrate-photos", cfg.MigratePhotos, "legacy photos the migrate scenario moves")
	fs.IntVar(&cfg.ViewsPhotos, "views-photos", 0, "originals the views scenario asks a srcset of (0: every one)")
	fs.IntVar(&cfg.ViewsShield, "views-shield", cfg.ViewsShield, "views of the shield mix the views scenario adds")
	fs.StringVar(&cfg.S3Endpoint, "regions-s3-endpoint", "", "for the regions scenario: an S3-compatible server it makes two buckets on (credentials from the AWS environment)")
	fs.DurationVar(&cfg.RemoteRTT, "remote-rtt", cfg.RemoteRTT, "for the regions scenario: the round trip to the far region's bucket")
	fs.IntVar(&cfg.RegionsRemoteKeys, "regions-remote-keys", cfg.RegionsRemoteKeys, "for the regions scenario: originals stored only in the far bucket")
	attack := fs.String("attack", "", "instead of scenarios, attack the server at --url: "+strings.Join(bench.Attacks, ", "))
	var acfg bench.AttackConfig
	fs.StringVar(&acfg.ServiceKey, "service-key", "", "with --attack: the server's service key (mints upload tokens)")
	fs.IntVar(&acfg.Conns, "attack-conns", 100, "with --attack uploads|connections: connections held")
	fs.DurationVar(&acfg.Hold, "attack-hold", 20*time.Second, "with --attack uploads|connections: how long they are held")
	fs.StringVar(&acfg.HeavyURL, "attack-heavy-url", "/KEY?w=2048&h=2048&dpr=2&fit=scale&fm=avif&q=100", "with --attack renders: the expensive unsigned request (KEY: an uploaded key)")
	fs.BoolVar(&acfg.Subjects, "attack-subjects", false, "with --attack uploads: one subject (token) per connection")
	fs.StringVar(&acfg.StoreDir, "attack-store-dir", "", "with --attack strangers: the server's disk store directory, to place files as another program would")
	fs.Float64Var(&acfg.HeavyRate, "attack-heavy-rate", 0.5, "with --attack renders: heavy requests per second")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	mdOut := fs.String("markdown", "", "write the Markdown report to this file (default: stdout)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.Scenarios, cfg.Keys = scenarios, keys
	sf := storeFlags{logLevel: *logLevel, logFormat: "text"}
	log, err := sf.logger()
	if err != nil {
		return err
	}
	if err := startVips(log); err != nil {
		return err
	}
	if *attack != "" {
		acfg.URL, acfg.AdminURL, acfg.Duration = cfg.URL, cfg.AdminURL, cfg.Duration
		if acfg.URL == "" || acfg.AdminURL == "" || acfg.ServiceKey == "" {
			return errors.New("--attack needs --url, --admin-url and --service-key")
		}
		rep, err := bench.Attack(context.Background(), *attack, acfg)
		if rep != nil {
			fmt.Print(rep)
		}
		return err
	}
	dir, err := os.MkdirTemp("", "imgorigin-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg.DataDir = dir
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// With OTEL_* set, the in-process server traces as a served one would:
	// what tracing costs is measured by running with and without.
	stopTracing, err := startTracing(ctx, "imgorigin-bench", log)
	if err != nil {
		return err
	}
	defer stopTracing()
	rep, err := bench.Run(ctx, cfg, log)
	if err != nil {
		return err
	}
	if *jsonOut != "" {
		if err := rep.WriteJSON(*jsonOut); err != nil {
			return err
		}
	}
	out := os.Stdout
	if *mdOut != "" {
		f, err := os.Create(*mdOut)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	rep.WriteMarkdown(out)
	return nil
}
