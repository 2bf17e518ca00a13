package uploader

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
)

// holdUpload opens an upload that declares declared bytes, sends the first
// few, and stalls; the connection is closed with the test.
func (f *fixture) holdUpload(tok string, declared int, first []byte) net.Conn {
	f.t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /v1/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", tok, declared)
	c.Write(first)
	return c
}

// Clients that declare large bodies and send a byte hold a chunk each, not
// what they declared; honest uploads go on; a spent budget answers 503 at once.
func TestUploadBodiesAreBoundedInMemory(t *testing.T) {
	const maxBytes, budget = 4 << 20, 8 << 20
	f := newFixture(t, diskStore(t), func(c *Config) { c.MaxBytes, c.BodyMemory = maxBytes, budget })
	for i := range 100 {
		f.holdUpload(f.uploadToken(fmt.Sprintf("attacker-%d", i), ""), maxBytes, []byte{0xFF})
	}
	testwait.For(t, "100 held uploads to be charged", func() bool { return f.h.budget.held.Load() >= 100*firstChunk })
	if held := f.h.budget.held.Load(); held > 100*firstChunk {
		t.Fatalf("100 uploads of one byte hold %d bytes, want at most %d", held, 100*firstChunk)
	}
	src := testimage.JPEG(t, testimage.Photo(t, 1200, 900))
	if code, res := f.upload(f.uploadToken("honest", ""), src); code != 201 {
		t.Fatalf("honest upload while 100 are held: %d %v", code, res)
	}

	// Spend the budget: the next upload is refused before its body is read.
	rest := budget - f.h.budget.held.Load()
	if !f.h.budget.take(rest) {
		t.Fatal("could not take the rest of the budget")
	}
	resp := f.uploadResponse(f.uploadToken("late", ""), src)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("upload with the budget spent: %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	f.h.budget.give(rest)
	if code, res := f.upload(f.uploadToken("honest-after", ""), src); code != 201 {
		t.Fatalf("honest upload after: %d %v", code, res)
	}
}

func TestUploadsPerSubjectAreBounded(t *testing.T) {
	f := newFixture(t, diskStore(t), func(c *Config) { c.PerSubject = 2 })
	tok := f.uploadToken("couple-1", "")
	for range 2 {
		f.holdUpload(tok, 1<<20, []byte{0xFF})
	}
	testwait.For(t, "two uploads in progress", func() bool { return f.h.budget.held.Load() >= 2*firstChunk })
	src := testimage.JPEG(t, testimage.Photo(t, 300, 200))
	resp := f.uploadResponse(f.uploadToken("couple-1", ""), src)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third upload of one subject: %d, want 429 with Retry-After", resp.StatusCode)
	}
	if code, res := f.upload(f.uploadToken("couple-2", ""), src); code != 201 {
		t.Fatalf("another subject: %d %v", code, res)
	}
}

// Error answers are ours: no parser, decoder or Go type names in them.
func TestErrorAnswersDoNotLeakInternals(t *testing.T) {
	f := newFixture(t, diskStore(t), nil)
	src := testimage.JPEG(t, testimage.Photo(t, 600, 400))
	leaks := []string{"vips", "Vips", "jpeg:", "Go struct", "json:", "unmarshal", "token:"}
	check := func(what string, code int, res map[string]any, want int) {
		t.Helper()
		msg := fmt.Sprint(res["error"])
		if code != want || msg == "" {
			t.Errorf("%s: %d %q, want %d with a reason", what, code, msg, want)
		}
		for _, l := range leaks {
			if strings.Contains(msg, l) {
				t.Errorf("%s: %q leaks %q", what, msg, l)
			}
		}
	}
	code, res := f.upload(f.uploadToken("u", ""), src[:len(src)/2])
	check("truncated JPEG", code, res, 422)
	code, res = f.post("/v1/upload-tokens", serviceKey, "application/json", strings.NewReader(`{"subject":["a"]}`))
	check("subject of the wrong type", code, res, 400)
	tok := f.uploadToken("u", "")
	parts := strings.Split(tok, ".")
	code, res = f.upload(parts[0]+".eyJhdWQiOlsxXX0."+parts[2], src)
	check("claims of the wrong shape", code, res, 401)
	code, res = f.upload(tok+"x", src)
	check("bad signature", code, res, 401)
}

// An upload token stores one object unless the backend asked for more;
// retries of the same bytes are the same object.
func TestUploadTokensStoreTheirMaxUploads(t *testing.T) {
	f := newFixture(t, diskStore(t), nil)
	a := testimage.JPEG(t, testimage.Photo(t, 300, 200))
	b := testimage.JPEG(t, testimage.Photo(t, 301, 200))
	c := testimage.JPEG(t, testimage.Photo(t, 302, 200))
	once := f.uploadToken("u", "")
	for i, want := range []int{201, 201, 403} {
		src := [][]byte{a, a, b}[i]
		if code, res := f.upload(once, src); code != want {
			t.Fatalf("single-use token, upload %d: %d %v, want %d", i, code, res, want)
		}
	}
	twice := f.uploadToken("u", `,"max_uploads":2`)
	for i, src := range [][]byte{b, c, a} {
		want := []int{201, 201, 403}[i]
		if code, res := f.upload(twice, src); code != want {
			t.Fatalf("max_uploads=2, upload %d: %d %v, want %d", i, code, res, want)
		}
	}
	if code, res := f.post("/v1/upload-tokens", serviceKey, "application/json", strings.NewReader(`{"subject":"u","max_uploads":100000}`)); code != 400 {
		t.Fatalf("max_uploads over the cap: %d %v", code, res)
	}
}
