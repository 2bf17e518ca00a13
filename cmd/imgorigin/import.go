package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
)

// importFiles stores each file through the upload conversion and prints
// {"file","key","width","height","bytes"} per file. A bad file is reported on
// its line with "error" and makes the exit status non-zero; the rest go on.
func importFiles(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	subject := fs.String("subject", "import", "subject the imported photos belong to (keys derive from it)")
	maxBytes := fs.Int64("max-bytes", 64<<20, "largest file accepted")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("import: no files given")
	}
	log, err := sf.logger()
	if err != nil {
		return err
	}
	if err := startVips(log); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	in, err := sf.ingester(st, imaging.DefaultOriginal(), log)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	failed := 0
	for _, file := range fs.Args() {
		line := map[string]any{"file": file}
		res, err := importOne(ctx, in, *subject, file, *maxBytes)
		if err != nil {
			failed++
			line["error"] = err.Error()
		} else {
			line["key"], line["width"], line["height"], line["bytes"] = res.Key, res.Width, res.Height, res.Bytes
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("import: %d of %d files failed", failed, fs.NArg())
	}
	return nil
}

func importOne(ctx context.Context, in *ingest.Ingester, subject, file string, maxBytes int64) (ingest.Result, error) {
	f, err := os.Open(file)
	if err != nil {
		return ingest.Result{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return ingest.Result{}, err
	}
	if int64(len(b)) > maxBytes {
		return ingest.Result{}, fmt.Errorf("larger than --max-bytes %d", maxBytes)
	}
	return in.Ingest(ctx, subject, b)
}
