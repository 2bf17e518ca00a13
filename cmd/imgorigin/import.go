package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"

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
		return fmt.Errorf("import: no files or directories given")
	}
	log, err := sf.logger()
	if err != nil {
		return err
	}
	if err := startVips(log); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := sf.HomeStore(ctx)
	if err != nil {
		return err
	}
	in, err := sf.Ingester(st, imaging.DefaultOriginal(), log)
	if err != nil {
		return err
	}
	files, err := importPaths(fs.Args())
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	failed := 0
	for _, file := range files {
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
		return fmt.Errorf("import: %d of %d files failed", failed, len(files))
	}
	return nil
}

// importPaths expands directories into the files under them (recursively,
// in name order, leaving out hidden files and folders such as a disk store's
// .imgorigin); files are kept as given.
func importPaths(args []string) ([]string, error) {
	var files []string
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil || !st.IsDir() {
			files = append(files, arg) // a missing file is reported on its own line
			continue
		}
		err = filepath.WalkDir(arg, func(path string, d iofs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != arg && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
	}
	return files, nil
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
