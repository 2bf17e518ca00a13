// Command imgorigin is the image origin: one binary, one subcommand per role.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/imgorigin/imgorigin/imaging"
)

const usage = `imgorigin: an on-demand image resizing origin for CDNs

Usage: imgorigin COMMAND [flags]

Commands:
  serve     uploader and resizer in one process, originals on local disk (the embedded default)
  resizer   the resizer alone, for regional fleets (use --store s3://...)
  uploader  the uploader alone, for regional fleets (needs --signing-key-file and --service-keys)
  import    convert image files into stored originals; prints one JSON line per file
  migrate   convert a legacy bucket (originals + thumbnails) into WebP originals: plan, work, status, report, export
  bench     load generator and performance report (cold, warm-original, hot, zipf)
  keys      keys generate: a new token signing key (PEM)
  health    probe a running server's admin listener (exit 0 when ready; --live: alive)
  version   print the version, Go and libvips

Run 'imgorigin COMMAND -h' for a command's flags. Every flag has an
environment twin: --admin-addr is IMGORIGIN_ADMIN_ADDR.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	err := run(os.Args[1], os.Args[2:])
	imaging.Stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if errors.Is(err, errUsage) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "imgorigin: %v\n", err)
		os.Exit(1)
	}
}

// errUsage is an unknown command, told on stderr already.
var errUsage = errors.New("usage")

// run runs one command.
func run(cmd string, args []string) (err error) {
	switch cmd {
	case "serve", "resizer", "uploader":
		err = serve(cmd, args)
	case "import":
		err = importFiles(args, os.Stdout)
	case "bench":
		err = runBench(args)
	case "migrate":
		err = migrateCmd(args, os.Stdout)
	case "keys":
		err = keysCmd(args, os.Stdout)
	case "health":
		err = healthCmd(args, os.Stdout)
	case "version", "--version":
		err = versionCmd(os.Stdout)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "imgorigin: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
	return err
}
