package disk

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/imgorigin/imgorigin/storage"
)

// List walks the tree in key order from the cursor on, descending only into
// directories that can hold keys after it: a page reads the directories on
// the way to its keys, not the whole tree. A directory's sorted entries are
// cached while it is unchanged, so paging through one huge flat directory
// reads it once. Only what a read would serve is listed: regular files,
// no hidden names, no symbolic links.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) (storage.Page, error) {
	if limit <= 0 {
		limit = 1000
	}
	page, err := call(ctx, s.gate, func() (storage.Page, error) { return s.list(ctx, prefix, after, limit) }, nil)
	return page, s.wrap(err)
}

func (s *Store) list(ctx context.Context, prefix, after string, limit int) (storage.Page, error) {
	var page storage.Page
	err := s.walkDir(ctx, "", prefix, after, func(key string, st fs.FileInfo) bool {
		if len(page.Items) == limit {
			page.Next = page.Items[limit-1].Key
			return false
		}
		info := s.describe(key, st)
		if info.ContentType == "" {
			info.ContentType = "application/octet-stream" // sniffed only by Get and Head
		}
		page.Items = append(page.Items, info)
		return true
	})
	if err != nil && !errors.Is(err, errStop) {
		return storage.Page{}, err
	}
	return page, nil
}

// errStop ends a walk once emit has had enough.
var errStop = errors.New("stop")

// walkDir calls emit for each file whose key has prefix and sorts after
// after, in key order, until emit returns false (then errStop). dir is the
// key prefix of the directory walked ("" or ending in "/").
func (s *Store) walkDir(ctx context.Context, dir, prefix, after string, emit func(string, fs.FileInfo) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := s.dirs.read(filepath.Join(s.objects, filepath.FromSlash(dir)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // removed while we listed
	}
	if err != nil {
		return err
	}
	// Skip straight to the first entry that can sort after the cursor.
	start, _ := slices.BinarySearchFunc(entries, after, func(e dirEntry, target string) int {
		return strings.Compare(dir+e.sortName(), target)
	})
	for i := max(start-1, 0); i < len(entries); i++ {
		e := entries[i]
		key := dir + e.name
		if e.link || strings.HasPrefix(e.name, ".") {
			continue // not served: see open
		}
		if e.dir {
			sub := key + "/"
			if !strings.HasPrefix(sub, prefix) && !strings.HasPrefix(prefix, sub) {
				continue
			}
			if after >= sub && !strings.HasPrefix(after, sub) {
				continue // every key below sorts before the cursor
			}
			if err := s.walkDir(ctx, sub, prefix, after, emit); err != nil {
				return err
			}
			continue
		}
		if key <= after || !strings.HasPrefix(key, prefix) {
			continue
		}
		st, err := os.Lstat(s.objectPath(key))
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted while we listed, or not a file
		}
		if !emit(key, st) {
			return errStop
		}
	}
	return nil
}

// dirEntry is a directory entry as listing needs it.
type dirEntry struct {
	name string
	dir  bool
	link bool // a symbolic link, listed as reads see it: not an object
}

// sortName places a directory where its keys sort: "a/" after "a-c" (bytewise
// "/" > "-"), as the keys "a/b" and "a-c" do.
func (e dirEntry) sortName() string {
	if e.dir {
		return e.name + "/"
	}
	return e.name
}

// dirCache keeps the sorted entries of recently read directories, checked
// against the directory's mtime on every use.
type dirCache struct {
	lru   *lru.Cache[string, cachedDir]
	reads atomic.Int64 // directories read from the filesystem, for tests
}

type cachedDir struct {
	mtime   time.Time
	entries []dirEntry
}

func newDirCache() *dirCache {
	c, _ := lru.New[string, cachedDir](16)
	return &dirCache{lru: c}
}

// racyWindow: a directory changed this recently may change again within the
// same mtime tick, so its listing is not cached (as git treats racy files).
const racyWindow = 2 * time.Second

func (c *dirCache) read(path string) ([]dirEntry, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if got, ok := c.lru.Get(path); ok && got.mtime.Equal(st.ModTime()) {
		return got.entries, nil
	}
	des, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	c.reads.Add(1)
	entries := make([]dirEntry, 0, len(des))
	for _, de := range des {
		entries = append(entries, dirEntry{name: de.Name(), dir: de.IsDir(), link: de.Type()&fs.ModeSymlink != 0})
	}
	slices.SortFunc(entries, func(a, b dirEntry) int { return strings.Compare(a.sortName(), b.sortName()) })
	if time.Since(st.ModTime()) > racyWindow {
		c.lru.Add(path, cachedDir{mtime: st.ModTime(), entries: entries})
	}
	return entries, nil
}
