package disk

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Clean removes what writes cut short by a crash or kill -9 leave behind:
// temporary files, and sidecars whose object never arrived, once older than
// age (so that Puts in flight in other processes keep theirs). It returns
// how many files it removed.
func (s *Store) Clean(ctx context.Context, age time.Duration) (int, error) {
	cutoff := time.Now().Add(-age)
	old := func(path string) bool {
		st, err := os.Lstat(path)
		return err == nil && st.Mode().IsRegular() && st.ModTime().Before(cutoff)
	}
	removed := 0
	tmps, err := os.ReadDir(s.tmp)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	for _, e := range tmps {
		if p := filepath.Join(s.tmp, e.Name()); strings.HasPrefix(e.Name(), tempPrefix) && old(p) && os.Remove(p) == nil {
			removed++
		}
	}
	err = filepath.WalkDir(s.meta, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(s.meta, path)
		if _, err := os.Lstat(filepath.Join(s.objects, rel)); errors.Is(err, fs.ErrNotExist) && old(path) && os.Remove(path) == nil {
			removed++
		}
		return nil
	})
	return removed, err
}
