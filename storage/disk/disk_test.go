package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/storagetest"
)

func TestConformance(t *testing.T) {
	st, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	storagetest.Run(t, st)
}

func TestObjectIsThePlainFileAndTemporaryFilesAreGone(t *testing.T) {
	dir := t.TempDir()
	st, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(t.Context(), "a/k.webp", []byte("data"), "image/webp", nil); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a", "k.webp")); err != nil || string(b) != "data" {
		t.Fatalf("DIR/a/k.webp = %q, %v", b, err)
	}
	left, _ := os.ReadDir(filepath.Join(dir, Reserved, "tmp"))
	if len(left) != 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
	for _, key := range []string{Reserved, Reserved + "/meta/a/k.webp"} {
		if _, err := st.Get(t.Context(), key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	page, err := st.List(t.Context(), "", "", 100)
	if err != nil || len(page.Items) != 1 || page.Items[0].Key != "a/k.webp" || page.Items[0].ContentType != "image/webp" {
		t.Fatalf("List = %+v, %v; want only a/k.webp (not the store's own files)", page, err)
	}
}

// A directory written by something else: every file is an object, its
// metadata derived, and reading or listing writes nothing into it.
func TestPlainDirectoryIsReadAsItIs(t *testing.T) {
	dir := t.TempDir()
	webp := []byte("RIFF\x10\x00\x00\x00WEBPVP8 rest of a webp")
	files := map[string][]byte{"2019/p1.jpg": []byte("\xff\xd8\xff\xe0 a jpeg"), "2019/p1_s.jpg": []byte("\xff\xd8\xff thumb"), "noext": webp}
	for name, b := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, dir)
	st, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.List(t.Context(), "", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range page.Items {
		keys = append(keys, it.Key)
	}
	if fmt.Sprint(keys) != "[2019/p1.jpg 2019/p1_s.jpg noext]" {
		t.Fatalf("listed %v", keys)
	}
	obj, err := st.Get(t.Context(), "noext")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if string(b) != string(webp) || obj.ContentType != "image/webp" || obj.ETag == "" {
		t.Fatalf("Get noext: %q %+v (the sniffed type must not eat the body)", b, obj.Info)
	}
	head, err := st.Head(t.Context(), "2019/p1.jpg")
	if err != nil || head.ContentType != "image/jpeg" || head.Size != int64(len(files["2019/p1.jpg"])) {
		t.Fatalf("Head = %+v, %v", head, err)
	}
	// Replaced by another program: a new ETag (even in the same mtime tick:
	// the inode differs).
	replacement := filepath.Join(dir, "2019/p1.jpg.new")
	os.WriteFile(replacement, []byte("\xff\xd8\xff other bytes"), 0o644)
	os.Rename(replacement, filepath.Join(dir, "2019/p1.jpg"))
	if again, _ := st.Head(t.Context(), "2019/p1.jpg"); again.ETag == head.ETag {
		t.Fatalf("ETag %q unchanged after the file was rewritten", again.ETag)
	}
	if after := snapshot(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("reading the store changed the directory:\nbefore %v\nafter  %v", before, after)
	}
}

func snapshot(t *testing.T, dir string) []string {
	var names []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		names = append(names, p)
		return err
	})
	return names
}

// A data directory from before plain directories (o/, m/, tmp/) keeps its
// objects and their sidecar metadata.
func TestLegacyLayoutIsRead(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"o/ab", "m/ab", "tmp"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "o/ab/key"), []byte("bytes"), 0o644)
	os.WriteFile(filepath.Join(dir, "m/ab/key"), []byte(`{"etag":"e1","content_type":"image/webp"}`), 0o644)
	st, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Head(t.Context(), "ab/key")
	if err != nil || info.ETag != "e1" || info.ContentType != "image/webp" {
		t.Fatalf("Head = %+v, %v", info, err)
	}
	if _, err := st.Put(t.Context(), "ab/new", []byte("x"), "image/webp", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "o/ab/new")); err != nil {
		t.Fatalf("Put in the legacy layout: %v", err)
	}
}

// A legacy tree of 20,000 files (40 folders of 500) pages in key order, and
// each page reads only the directories on its way, never the whole tree
// (which would be 42 reads a page).
func TestListingALargeTreeReadsOnlyItsWay(t *testing.T) {
	const folders, perFolder = 40, 500
	dir := t.TempDir()
	var want []string
	start := time.Now()
	for g := range folders {
		sub := filepath.Join(dir, "legacy", fmt.Sprintf("user-%d", g))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for p := range perFolder {
			name := fmt.Sprintf("p%d.jpg", p)
			if err := os.WriteFile(filepath.Join(sub, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			want = append(want, fmt.Sprintf("legacy/user-%d/%s", g, name))
		}
	}
	sort.Strings(want)
	t.Logf("generated %d files in %v", len(want), time.Since(start).Round(time.Millisecond))
	// Directory mtimes just set are "racy" and never cached; age them so the
	// listing sees the tree as a legacy bucket is: long unchanged.
	old := time.Now().Add(-time.Hour)
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chtimes(p, old, old)
		}
		return err
	})
	st, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start = time.Now()
	var got []string
	pages, worstReads := 0, int64(0)
	for after := ""; ; pages++ {
		reads := st.dirs.reads.Load()
		page, err := st.List(ctx, "legacy/", after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		worstReads = max(worstReads, st.dirs.reads.Load()-reads)
		for _, it := range page.Items {
			got = append(got, it.Key)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	elapsed := time.Since(start)
	t.Logf("listed %d files in %d pages of 1000 in %v (%v a page); at most %d directories read for one page",
		len(got), pages+1, elapsed.Round(time.Millisecond), (elapsed / time.Duration(pages+1)).Round(time.Microsecond), worstReads)
	if len(got) != len(want) {
		t.Fatalf("listed %d files, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("item %d = %s, want %s", i, got[i], want[i])
		}
	}
	// A page of 1000 spans at most 3 folders of 500, plus the root and legacy/
	// on the first page; walking the tree would read all 42.
	if worstReads > 5 {
		t.Fatalf("a page read %d directories: the listing walks more than its way", worstReads)
	}
}

// Puts of one key at once (a job delivered twice) leave the object with
// one of their sidecars, never one's sidecar beside the other's file,
// which would read as another program's file, its metadata lost.
func TestConcurrentPutsOfOneKeyKeepTheirMetadata(t *testing.T) {
	st, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for round := range 100 {
		key := fmt.Sprintf("k%d", round)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.Put(ctx, key, []byte(fmt.Sprintf("bytes of writer %d", w)), "image/webp", storage.Meta{"writer": fmt.Sprint(w)}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		info, err := st.Head(ctx, key)
		if err != nil || !info.Own || info.Meta["writer"] == "" || info.Size != int64(len("bytes of writer 0")) {
			t.Fatalf("round %d: %+v %v; want one writer's object with its metadata", round, info, err)
		}
	}
}
