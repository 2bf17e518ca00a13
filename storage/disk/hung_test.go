package disk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// stallingFS is a real FUSE mount that stops answering on demand, as a hard
// NFS mount does when its server goes away: every lookup and attribute call
// then blocks in the kernel until released.
type stallingFS struct {
	fs.Inode
	stalled atomic.Bool
	release chan struct{}
}

func (r *stallingFS) wait() {
	if r.stalled.Load() {
		<-r.release
	}
}

func (r *stallingFS) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	r.wait()
	return nil, syscall.ENOENT
}

func (r *stallingFS) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	r.wait()
	out.Mode = syscall.S_IFDIR | 0o755
	return 0
}

var (
	_ fs.NodeLookuper  = (*stallingFS)(nil)
	_ fs.NodeGetattrer = (*stallingFS)(nil)
)

// A store on a mount that hangs answers within the caller's deadline, as a
// store failure (never "not found"), and holds at most maxCalls OS threads
// however many ask: before the gate, each read left a thread blocked in the
// kernel until the process died of thread exhaustion.
func TestAHungMountCostsBoundedThreadsAndFailsInTime(t *testing.T) {
	mnt := t.TempDir()
	root := &stallingFS{release: make(chan struct{})}
	server, err := fs.Mount(mnt, root, &fs.Options{MountOptions: fuse.MountOptions{DirectMount: true, FsName: "stalling", Name: "imgorigin-test"}})
	if err != nil {
		t.Fatalf("mounting a FUSE filesystem (make test runs as root with /dev/fuse): %v", err)
	}
	released := sync.OnceFunc(func() { close(root.release) })
	t.Cleanup(func() {
		released()
		if err := server.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	st, err := New(mnt)
	if err != nil {
		t.Fatal(err)
	}
	before := threads(t)
	root.stalled.Store(true)

	const callers = 200
	var wg sync.WaitGroup
	var stalledErrs, otherErrs atomic.Int64
	start := time.Now()
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			var err error
			if i%2 == 0 {
				_, err = st.Head(ctx, "photo-"+strconv.Itoa(i)+".jpg")
			} else {
				_, err = st.Get(ctx, "photo-"+strconv.Itoa(i)+".jpg")
			}
			if errors.Is(err, ErrStalled) {
				stalledErrs.Add(1)
			} else {
				otherErrs.Add(1)
				t.Logf("call %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	grown := threads(t) - before
	t.Logf("%d calls on a hung mount: %d failed as stalled in %v; OS threads %d -> %d", callers, stalledErrs.Load(), elapsed.Round(time.Millisecond), before, before+grown)
	if otherErrs.Load() != 0 {
		t.Fatalf("%d calls did not fail as stalled", otherErrs.Load())
	}
	// Every caller gave up at its own 300 ms deadline, not in a queue behind
	// the others.
	if elapsed > 5*time.Second {
		t.Fatalf("the calls took %v to fail", elapsed)
	}
	if grown > maxCalls+10 {
		t.Fatalf("OS threads grew by %d, more than the store's %d calls at once plus 10", grown, maxCalls)
	}
	if err := st.Ping(shortContext(t)); !errors.Is(err, ErrStalled) {
		t.Fatalf("Ping on the hung mount: %v, want ErrStalled", err)
	}
	// Once the mount answers again, so does the store.
	root.stalled.Store(false)
	released()
	if _, err := st.Head(t.Context(), "after.jpg"); !strings.Contains(errString(err), "not found") {
		t.Fatalf("Head after the mount recovered: %v, want not found", err)
	}
}

func shortContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// threads is how many OS threads this process has.
func threads(t *testing.T) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(os.Getpid()), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatal("no Threads: line in /proc/self/status")
	return 0
}
