// Package storagetest is the one conformance suite every storage backend
// passes, the proxies that take a server away the ways networks do, and where
// the test command's S3 and SQS servers listen.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/storage"
)

// Run checks that st behaves as storage.Store promises. st must start empty.
func Run(t *testing.T, st storage.Store) {
	for _, c := range []struct {
		name  string
		check func(*testing.T, storage.Store)
	}{
		{"missing object is ErrNotFound", missingObject},
		{"put then get returns the bytes and metadata", putThenGet},
		{"overwrite replaces bytes and changes the ETag", overwrite},
		{"invalid keys are refused by every method", invalidKeys},
		{"delete removes and is idempotent", deleteIdempotent},
		{"delete many crosses the 1000-key batch limit", deleteManyBatches},
		{"list pages in bytewise key order", listPages},
		{"concurrent readers never see a half-written object", concurrentReaders},
		{"a cancelled context fails the call", cancelledContext},
	} {
		t.Run(c.name, func(t *testing.T) { c.check(t, st) })
	}
}

func missingObject(t *testing.T, st storage.Store) {
	ctx := context.Background()
	if _, err := st.Get(ctx, "no/such/key"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get: %v, want ErrNotFound", err)
	}
	if _, err := st.Head(ctx, "no/such/key"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Head: %v, want ErrNotFound", err)
	}
}

func putThenGet(t *testing.T, st storage.Store) {
	ctx := context.Background()
	data := []byte("RIFF....WEBPVP8 some image bytes")
	meta := storage.Meta{"width": "2560", "color": "#a0b1c2", "thumbhash": "1QcSHQRnh493V4dIh4eXh1h4kJUI"}
	put, err := st.Put(ctx, "photos/a b/ключ.webp", data, "image/webp", meta)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := st.Get(ctx, "photos/a b/ключ.webp")
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, obj)
	if !bytes.Equal(got, data) {
		t.Fatalf("Get bytes = %q, want %q", got, data)
	}
	if obj.Size != int64(len(data)) || obj.ContentType != "image/webp" || obj.ETag == "" {
		t.Fatalf("Get info = %+v", obj.Info)
	}
	if put.ETag != obj.ETag || put.Size != obj.Size {
		t.Fatalf("Put info %+v disagrees with Get info %+v", put, obj.Info)
	}
	head, err := st.Head(ctx, "photos/a b/ключ.webp")
	if err != nil {
		t.Fatal(err)
	}
	if head.ETag != obj.ETag || head.Size != obj.Size || head.ContentType != obj.ContentType {
		t.Fatalf("Head %+v disagrees with Get %+v", head, obj.Info)
	}
	for _, info := range []storage.Info{put, obj.Info, head} {
		if !maps.Equal(info.Meta, meta) {
			t.Fatalf("metadata %v, want what Put kept, %v, with every read", info.Meta, meta)
		}
	}
	if _, err := st.Put(ctx, "bad-meta", data, "image/webp", storage.Meta{"Width": "1"}); err == nil {
		t.Fatal("metadata a store could not keep as it is was taken")
	}
	if _, err := st.Put(ctx, "bad-meta", data, "image/webp", storage.Meta{"x": strings.Repeat("y", storage.MaxMetaBytes)}); err == nil {
		t.Fatal("metadata over S3's 2 KB was taken")
	}
	if !put.Own || !obj.Own || !head.Own {
		t.Fatalf("an object written by Put must read as Own: put %v, get %v, head %v", put.Own, obj.Own, head.Own)
	}
	if d := time.Since(head.LastModified); d < -time.Minute || d > time.Minute {
		t.Fatalf("LastModified %v is not about now", head.LastModified)
	}
}

func overwrite(t *testing.T, st storage.Store) {
	ctx := context.Background()
	first, err := st.Put(ctx, "over", []byte("first version"), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := st.Put(ctx, "over", []byte("second, longer version"), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.ETag == second.ETag {
		t.Fatalf("ETag did not change: %q", first.ETag)
	}
	obj, err := st.Get(ctx, "over")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(readAll(t, obj)); got != "second, longer version" {
		t.Fatalf("got %q", got)
	}
}

func invalidKeys(t *testing.T, st storage.Store) {
	ctx := context.Background()
	for _, key := range []string{"", "/abs", "a/../b", "nul\x00", "ctl\n", strings.Repeat("x", storage.MaxKeyLen+1)} {
		_, errGet := st.Get(ctx, key)
		_, errHead := st.Head(ctx, key)
		_, errPut := st.Put(ctx, key, []byte("x"), "text/plain", nil)
		errDel := st.Delete(ctx, key)
		errMany := st.DeleteMany(ctx, []string{"fine", key})
		for name, err := range map[string]error{"Get": errGet, "Head": errHead, "Put": errPut, "Delete": errDel, "DeleteMany": errMany} {
			if !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("%s(%q) = %v, want ErrInvalidKey", name, key, err)
			}
		}
	}
}

func deleteIdempotent(t *testing.T, st storage.Store) {
	ctx := context.Background()
	if _, err := st.Put(ctx, "del/one", []byte("x"), "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "del/one"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Head(ctx, "del/one"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("after Delete, Head = %v", err)
	}
	if err := st.Delete(ctx, "del/one"); err != nil {
		t.Fatalf("second Delete = %v, want nil", err)
	}
}

func deleteManyBatches(t *testing.T, st storage.Store) {
	ctx := context.Background()
	const n = 1005
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("many/%04d", i)
	}
	putAll(t, st, keys)
	keep := "many/keep"
	putAll(t, st, []string{keep})
	if err := st.DeleteMany(ctx, append(keys, "many/never-existed")); err != nil {
		t.Fatal(err)
	}
	left := listAll(t, st, "many/", 1000)
	if len(left) != 1 || left[0] != keep {
		t.Fatalf("after DeleteMany, listing has %d keys (%v...), want only %s", len(left), head(left), keep)
	}
}

func listPages(t *testing.T, st storage.Store) {
	ctx := context.Background()
	// "a-c" sorts before "a/b" bytewise but after it in a directory walk.
	// ("list/a" and "list/a/b" cannot both be files on disk, so not both here.)
	keys := []string{"list/a-c", "list/a/b", "list/a/c/d", "list/b", "list/z", "lister/x"}
	putAll(t, st, keys)
	want := []string{"list/a-c", "list/a/b", "list/a/c/d", "list/b", "list/z"}
	for _, pageSize := range []int{1, 2, 3, 100} {
		if got := listAll(t, st, "list/", pageSize); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("page size %d: got %v, want %v", pageSize, got, want)
		}
	}
	page, err := st.List(ctx, "list/a", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Next != "" {
		t.Fatalf("prefix list/a: %+v", page)
	}
	if page.Items[1].Size != int64(len("list/a/b")) {
		t.Fatalf("listed size %d", page.Items[1].Size)
	}
}

func concurrentReaders(t *testing.T, st storage.Store) {
	ctx := context.Background()
	a := bytes.Repeat([]byte("A"), 256<<10)
	b := bytes.Repeat([]byte("B"), 512<<10)
	if _, err := st.Put(ctx, "race", a, "application/octet-stream", nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 10; i++ {
			data := a
			if i%2 == 0 {
				data = b
			}
			if _, err := st.Put(ctx, "race", data, "application/octet-stream", nil); err != nil {
				t.Error(err)
			}
		}
		close(stop)
	}()
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		default:
		}
		obj, err := st.Get(ctx, "race")
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, obj)
		if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
			t.Fatalf("read %d bytes that are neither version", len(got))
		}
	}
	wg.Wait()
}

func cancelledContext(t *testing.T, st storage.Store) {
	ctx := context.Background()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.Put(cctx, "cancelled", []byte("x"), "text/plain", nil); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if _, err := st.Head(ctx, "cancelled"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("cancelled Put left an object: %v", err)
	}
}

func readAll(t *testing.T, obj *storage.Object) []byte {
	t.Helper()
	defer obj.Body.Close()
	b, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// putAll stores each key with its own name as the content, 8 at a time.
func putAll(t *testing.T, st storage.Store, keys []string) {
	t.Helper()
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := st.Put(context.Background(), k, []byte(k), "text/plain", nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func listAll(t *testing.T, st storage.Store, prefix string, pageSize int) []string {
	t.Helper()
	var keys []string
	after := ""
	for {
		page, err := st.List(context.Background(), prefix, after, pageSize)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > pageSize {
			t.Fatalf("page of %d items for limit %d", len(page.Items), pageSize)
		}
		for _, it := range page.Items {
			keys = append(keys, it.Key)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if !sort.StringsAreSorted(keys) {
		t.Fatalf("listing not in key order: %v", head(keys))
	}
	return keys
}

func head(keys []string) []string { return keys[:min(5, len(keys))] }
