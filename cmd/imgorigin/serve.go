package main

import (
	"context"
	"flag"
	"net/http"
	"os/signal"
	"syscall"

	"github.com/imgorigin/imgorigin/server"
)

// serve runs the embedded default: every role in one process on one port.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	var sc server.Config
	fs.StringVar(&sc.Addr, "addr", "127.0.0.1:8080", "public listener (the CDN's origin)")
	fs.StringVar(&sc.AdminAddr, "admin-addr", "127.0.0.1:9090", "admin listener: /metrics, /healthz, /readyz; never expose it through the CDN")
	fs.DurationVar(&sc.DrainDelay, "drain-delay", 0, "after SIGTERM, how long /readyz fails before listeners close (let load balancers notice)")
	fs.DurationVar(&sc.DrainTimeout, "drain-timeout", 0, "after SIGTERM, how long in-flight requests may take (default 25s)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := sf.logger()
	if err != nil {
		return err
	}
	if err := startVips(log); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if _, err := sf.openStore(ctx); err != nil {
		return err
	}
	srv := server.New(sc, http.NotFoundHandler(), log)
	return srv.Run(ctx)
}
