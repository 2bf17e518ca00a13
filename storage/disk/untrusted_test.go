package disk

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/storage"
)

// A directory we did not write holds anything: only regular files under it,
// and not hidden ones, are objects. Everything else is that key's
// ErrNotFound, answered at once (a FIFO never waits for a writer).
func TestOnlyRegularFilesUnderTheDirectoryAreObjects(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.jpg"), []byte("\xff\xd8\xff outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "ok.jpg"), []byte("\xff\xd8\xff inside"), 0o644))
	must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	must(t, os.Symlink(filepath.Join(outside, "secret.jpg"), filepath.Join(dir, "link-out.jpg")))
	must(t, os.Symlink(outside, filepath.Join(dir, "dir-out")))
	must(t, os.Symlink("ok.jpg", filepath.Join(dir, "alias.jpg")))
	must(t, os.Symlink("loop", filepath.Join(dir, "loop")))
	must(t, os.MkdirAll(filepath.Join(dir, ".git"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, ".git", "x.jpg"), []byte("\xff\xd8\xff hidden"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, ".env"), []byte("SECRET=1"), 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "adir"), 0o755))
	st, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"fifo", "link-out.jpg", "dir-out/secret.jpg", "alias.jpg", "loop", ".git/x.jpg", ".env", "adir", "a/../ok.jpg"} {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		_, errHead := st.Head(ctx, key)
		_, errGet := st.Get(ctx, key)
		cancel()
		for _, err := range []error{errHead, errGet} {
			if !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("%s: %v, want ErrNotFound", key, err)
			}
		}
	}
	obj, err := st.Get(t.Context(), "ok.jpg")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if string(b) != "\xff\xd8\xff inside" || obj.Own {
		t.Fatalf("ok.jpg = %q, own %v: a file another program wrote is not the store's own", b, obj.Own)
	}
	page, err := st.List(t.Context(), "", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Key != "ok.jpg" {
		t.Fatalf("List = %+v: only ok.jpg is an object", page.Items)
	}
}

// Which errors are the key's and which the filesystem's: as root (tests
// here) permission is never denied, so the errno stands in for the file.
func TestKeyErrorsAreNotStoreErrors(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOENT, syscall.EACCES, syscall.EPERM, syscall.ELOOP, syscall.ENOTDIR} {
		if err := keyError(&os.PathError{Op: "openat", Path: "k", Err: errno}, "k"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%v: %v, want ErrNotFound", errno, err)
		}
	}
	for _, errno := range []syscall.Errno{syscall.EIO, syscall.ESTALE, syscall.ENOTCONN} {
		if err := keyError(&os.PathError{Op: "openat", Path: "k", Err: errno}, "k"); errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%v: %v is the filesystem's failure, not a missing key", errno, err)
		}
	}
}

// A directory that went away (moved, unmounted) is the store failing, not
// every photo deleted: reads and Ping fail with an error that is not
// ErrNotFound.
func TestAMissingDirectoryIsAStoreError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "photos")
	st, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "a.jpg"), []byte("\xff\xd8\xff"), 0o644))
	must(t, os.Rename(dir, dir+".moved"))
	if _, err := st.Get(t.Context(), "a.jpg"); err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get after the directory moved: %v, want a store error", err)
	}
	if err := st.Ping(t.Context()); err == nil {
		t.Fatal("Ping after the directory moved: nil")
	}
}

// Objects are written as other programs write files (0666 less the umask),
// so that the directory's other users can read them.
func TestObjectsAreReadableByOthers(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	st, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(t.Context(), "k.webp", []byte("x"), "image/webp", nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "k.webp"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, %v; want 0644 under umask 022", fi.Mode().Perm(), err)
	}
	if _, err := st.Put(t.Context(), ".hidden", []byte("x"), "image/webp", nil); !errors.Is(err, storage.ErrInvalidKey) {
		t.Fatalf("Put of a hidden name: %v, want ErrInvalidKey (it could never be read)", err)
	}
}

// What a kill -9 in the middle of Puts leaves (temporary files, a sidecar
// whose object never arrived) is removed once old enough; what is fresh
// (another process's Put in flight) and what is whole stays.
func TestCleanRemovesDebrisOfKilledPuts(t *testing.T) {
	dir := t.TempDir()
	st, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(t.Context(), "a/whole.webp", []byte("x"), "image/webp", nil); err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-time.Hour)
	oldTmp, freshTmp := filepath.Join(st.tmp, tempPrefix+"old"), filepath.Join(st.tmp, tempPrefix+"fresh")
	orphan := st.metaPath("a/never-arrived.webp")
	for _, p := range []string{oldTmp, freshTmp, orphan} {
		must(t, os.WriteFile(p, []byte("{}"), 0o644))
	}
	for _, p := range []string{oldTmp, orphan, st.metaPath("a/whole.webp")} { // the object keeps its mtime: the sidecar names it
		must(t, os.Chtimes(p, long, long))
	}
	n, err := st.Clean(t.Context(), 5*time.Minute)
	if err != nil || n != 2 {
		t.Fatalf("Clean = %d, %v; want the old temporary file and the orphan sidecar", n, err)
	}
	for p, want := range map[string]bool{oldTmp: false, orphan: false, freshTmp: true, st.metaPath("a/whole.webp"): true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists = %v, want %v", p, err == nil, want)
		}
	}
	if info, err := st.Head(t.Context(), "a/whole.webp"); err != nil || !info.Own {
		t.Fatalf("the whole object after Clean: %+v, %v", info, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A key under a link to elsewhere writes nothing there: Put goes through
// os.Root like reads do.
func TestPutWritesNothingOutsideTheDirectory(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	must(t, os.Symlink(outside, filepath.Join(dir, "out")))
	st, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(t.Context(), "out/x.webp", []byte("x"), "image/webp", nil); err == nil {
		t.Fatal("Put under a link out of the directory succeeded")
	}
	if left, _ := os.ReadDir(outside); len(left) != 0 {
		t.Fatalf("Put wrote %v outside the directory", left)
	}
}
