package uploader

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/golang-jwt/jwt/v5"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/resizer"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/disk"
	"github.com/imgorigin/imgorigin/token"
)

func TestMain(m *testing.M) { testimage.Main(m) }

const serviceKey = "backend-service-key-0123456789"

const testIssuer = "https://upload.example.test"

type fixture struct {
	t     *testing.T
	store storage.Store
	keys  *token.KeySet
	h     *Handler
	srv   *httptest.Server
}

// newFixture runs the uploader and the resizer on one mux, as `serve` does.
func newFixture(t *testing.T, st storage.Store, mod func(*Config)) *fixture {
	t.Helper()
	k, err := token.GenerateKey(token.ES256)
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := token.NewKeySet(k)
	ks.Issuer = testIssuer
	in, err := ingest.New(st, ingest.Config{Limits: imaging.DefaultLimits(), Original: imaging.DefaultOriginal(), KeySecret: []byte("test-object-key-secret")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.MaxUploadsPerToken = 1000
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(in, ks, [][]byte{[]byte("rotated-out-but-valid-key"), []byte(serviceKey)}, nil, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	rz, err := resizer.New(st, resizer.DefaultConfig(), slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.SetDeleter(st, func(keys []string) { rz.Forget(keys...) })
	mux := http.NewServeMux()
	h.Register(mux)
	mux.Handle("/", rz)
	f := &fixture{t: t, store: st, keys: ks, h: h, srv: httptest.NewServer(mux)}
	t.Cleanup(f.srv.Close)
	return f
}

func diskStore(t *testing.T) storage.Store {
	st, err := disk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *fixture) post(path, auth, contentType string, body io.Reader) (int, map[string]any) {
	f.t.Helper()
	return f.do("POST", path, auth, contentType, body)
}

func (f *fixture) do(method, path, auth, contentType string, body io.Reader) (int, map[string]any) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, body)
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("%s: Content-Type %q, want application/json", path, ct)
	}
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func (f *fixture) uploadToken(subject string, extra string) string {
	f.t.Helper()
	code, m := f.post("/v1/upload-tokens", serviceKey, "application/json", strings.NewReader(`{"subject":"`+subject+`"`+extra+`}`))
	if code != 201 {
		f.t.Fatalf("upload token: %d %v", code, m)
	}
	return m["token"].(string)
}

func (f *fixture) upload(tok string, img []byte) (int, map[string]any) {
	f.t.Helper()
	return f.post("/v1/uploads", tok, "image/jpeg", bytes.NewReader(img))
}

// uploadResponse uploads img and returns the response, for its headers (body closed).
func (f *fixture) uploadResponse(tok string, img []byte) *http.Response {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+"/v1/uploads", bytes.NewReader(img))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "image/jpeg")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (f *fixture) objects() []string {
	var keys []string
	after := ""
	for {
		page, err := f.store.List(context.Background(), "", after, 1000)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, it := range page.Items {
			keys = append(keys, it.Key)
		}
		if page.Next == "" {
			return keys
		}
		after = page.Next
	}
}

func (f *fixture) stored(key string) []byte {
	f.t.Helper()
	obj, err := f.store.Get(context.Background(), key)
	if err != nil {
		f.t.Fatal(err)
	}
	defer obj.Body.Close()
	b, _ := io.ReadAll(obj.Body)
	return b
}

// The whole flow: backend gets a token, client uploads, the result token
// verifies with this package AND with an independent JWT library reading the
// JWKS endpoint, and the resizer serves the key. (The same on S3, through the
// built image: e2e's TestContainerImage.)
func TestEndToEnd(t *testing.T) {
	f := newFixture(t, diskStore(t), nil)
	photo := testimage.Photo(t, 3000, 2000)
	src := testimage.JPEG(t, photo)
	photo.Close()
	tok := f.uploadToken("couple-123", "")
	code, res := f.upload(tok, src)
	if code != 201 {
		t.Fatalf("upload: %d %v", code, res)
	}
	key := res["key"].(string)
	if len(key) != 32 || res["width"] != 2560.0 || res["height"] != 1707.0 || res["format"] != "webp" {
		t.Fatalf("upload answer %v", res)
	}
	ph := res["placeholder"].(map[string]any)
	if !strings.HasPrefix(ph["color"].(string), "#") || len(ph["color"].(string)) != 7 || len(ph["thumbhash"].(string)) < 20 {
		t.Fatalf("placeholder %v", ph)
	}
	stored := f.stored(key)
	if int64(len(stored)) != int64(res["bytes"].(float64)) {
		t.Fatalf("stored %d bytes, answer says %v", len(stored), res["bytes"])
	}

	// The backend fetches the JWKS and verifies with this package...
	resp, err := http.Get(f.srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	keys, err := token.ParseJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	verifier := token.Verifier(keys)
	verifier.Issuer = testIssuer
	claims, err := verifier.VerifyResult(res["result_token"].(string), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if claims.Key != key || claims.Subject != "couple-123" || claims.Width != 2560 || claims.Bytes != int64(len(stored)) || len(claims.SHA256) != 64 {
		t.Fatalf("result claims %+v", claims)
	}
	// ...and with an independent JWT library.
	parsed, err := jwt.Parse(res["result_token"].(string), func(tk *jwt.Token) (any, error) {
		for _, k := range keys {
			if k.ID == tk.Header["kid"] {
				return k.Public, nil
			}
		}
		return nil, errors.New("unknown kid")
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience("result"), jwt.WithIssuer(testIssuer), jwt.WithExpirationRequired())
	if err != nil || !parsed.Valid {
		t.Fatalf("golang-jwt rejects the result token: %v", err)
	}
	if mc := parsed.Claims.(jwt.MapClaims); mc["key"] != key || mc["sub"] != "couple-123" {
		t.Fatalf("golang-jwt claims %v", mc)
	}

	// The resizer serves the new key.
	resp, err = http.Get(f.srv.URL + "/" + key + "?w=320")
	if err != nil {
		t.Fatal(err)
	}
	thumb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if h, err := imaging.Probe(thumb); resp.StatusCode != 200 || err != nil || h.Width != 320 {
		t.Fatalf("resizer on the uploaded key: %d %+v %v", resp.StatusCode, h, err)
	}
}

func TestEveryInputFormatUploads(t *testing.T) {
	f := newFixture(t, diskStore(t), nil)
	tok := f.uploadToken("u", `,"max_uploads":100`)
	for name, src := range testimage.Formats(t, 600, 400) {
		code, res := f.upload(tok, src) // the Content-Type says JPEG: the bytes decide
		if code != 201 || res["width"] != 600.0 || res["height"] != 400.0 || res["format"] != "webp" {
			t.Errorf("%s: %d %v", name, code, res)
			continue
		}
		h, err := imaging.Probe(f.stored(res["key"].(string)))
		if err != nil || h.Format != imaging.WebP {
			t.Errorf("%s: stored %+v, %v", name, h, err)
		}
		if animated := strings.Contains(name, "animated"); animated != (h.Pages > 1) {
			t.Errorf("%s: stored %d frames", name, h.Pages)
		}
	}
}

// With an archive store, the untouched upload is kept too, under the same key.
func TestArchiveKeepsTheUntouchedUpload(t *testing.T) {
	f := newFixture(t, diskStore(t), nil)
	archive := diskStore(t)
	f.h.archive = archive
	photo := testimage.Photo(t, 500, 300)
	src := testimage.WithPrivateMetadata(t, photo)
	code, res := f.upload(f.uploadToken("u", ""), src)
	if code != 201 {
		t.Fatalf("%d %v", code, res)
	}
	obj, err := archive.Get(context.Background(), res["key"].(string))
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(kept, src) {
		t.Fatalf("archive holds %d bytes, not the %d uploaded", len(kept), len(src))
	}
}

func TestMultipartUpload(t *testing.T) {
	f := newFixture(t, diskStore(t), nil)
	photo := testimage.Photo(t, 400, 300)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("caption", "ignored")
	part, _ := mw.CreateFormFile("file", "photo.png")
	part.Write(testimage.PNG(t, photo))
	mw.Close()
	code, res := f.post("/v1/uploads", f.uploadToken("u", ""), mw.FormDataContentType(), &body)
	if code != 201 || res["width"] != 400.0 {
		t.Fatalf("multipart: %d %v", code, res)
	}
}

func TestBadInputGetsAClearStatusAndStoresNothing(t *testing.T) {
	f := newFixture(t, diskStore(t), nil)
	photo := testimage.Photo(t, 600, 400)
	good := testimage.JPEG(t, photo)
	now := time.Now()
	tok := f.uploadToken("u", `,"max_uploads":100`)
	small := f.uploadToken("u", `,"max_bytes":1000`)
	expired, _, _ := f.keys.MintUpload("u", token.UploadLimits{}, time.Minute, now.Add(-time.Hour))
	result, _ := f.keys.MintResult("u", token.Result{Key: "k"}, time.Hour, now)
	stranger, _ := token.NewKey(bytes.Repeat([]byte{7}, 32))
	strangerSet, _ := token.NewKeySet(stranger)
	strangerSet.Issuer = testIssuer
	forged, _, _ := strangerSet.MintUpload("u", token.UploadLimits{}, time.Hour, now)
	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "A") + "B." + parts[2]

	cases := []struct {
		name        string
		auth        string
		contentType string
		body        []byte
		status      int
	}{
		{"no token", "", "image/jpeg", good, 401},
		{"expired token", expired, "image/jpeg", good, 401},
		{"token from another signer", forged, "image/jpeg", good, 401},
		{"tampered token", tampered, "image/jpeg", good, 401},
		{"result token as upload token", result, "image/jpeg", good, 401},
		{"service key as upload token", serviceKey, "image/jpeg", good, 401},
		{"over the token's byte limit", small, "image/jpeg", good, 413},
		{"empty body", tok, "image/jpeg", nil, 400},
		{"not an image", tok, "image/jpeg", []byte("<html><body>hello, not an image</body></html>"), 415},
		{"svg", tok, "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`), 415},
		{"text content type", tok, "text/plain", good, 415},
		{"truncated jpeg", tok, "image/jpeg", good[:len(good)/2], 422},
		{"decompression bomb", tok, "image/png", testimage.PNGClaiming(t, 30000, 30000), 422},
		{"header claiming 65500x65500", tok, "image/jpeg", testimage.JPEGClaiming(t, 65500, 65500), 422},
	}
	for _, c := range cases {
		code, m := f.post("/v1/uploads", c.auth, c.contentType, bytes.NewReader(c.body))
		if code != c.status || m["error"] == nil || m["error"] == "" {
			t.Errorf("%s: %d %v, want %d with a JSON reason", c.name, code, m, c.status)
		}
	}
	if objs := f.objects(); len(objs) != 0 {
		t.Fatalf("bad uploads stored %v", objs)
	}
	// Backends: a wrong or missing service key, and bad token requests.
	for _, c := range []struct {
		auth, body string
		status     int
	}{
		{"", `{"subject":"u"}`, 401},
		{"wrong-key", `{"subject":"u"}`, 401},
		{serviceKey, `{"subject":""}`, 400},
		{serviceKey, `{"subject":"u","ttl_seconds":999999}`, 400},
		{serviceKey, `{"subject":"u","surprise":1}`, 400},
		{serviceKey, `not json`, 400},
		// A name given twice would take its last value: refused, in any case.
		{serviceKey, `{"subject":"u","max_uploads":1,"max_uploads":100}`, 400},
		{serviceKey, `{"subject":"u","max_uploads":1,"MAX_UPLOADS":100}`, 400},
		// Names match exactly: encoding/json folds case and Unicode (ſ is s).
		{serviceKey, `{"subject":"me","ſubject":"victim"}`, 400},
		{serviceKey, `{"Subject":"victim"}`, 400},
		{serviceKey, `{"subject":"u","max_uploadſ":100}`, 400},
		// Nothing after the object; numbers in range before any arithmetic.
		{serviceKey, `{"subject":"u"} {"subject":"v"}`, 400},
		{serviceKey, `{"subject":"u"}x`, 400},
		{serviceKey, `{"subject":"u","ttl_seconds":9223372036854775807}`, 400},
		{serviceKey, `{"subject":"u","ttl_seconds":0}`, 400},
		{serviceKey, `{"subject":"u","ttl_seconds":1e3}`, 400},
		{serviceKey, `{"subject":"u","max_bytes":99999999999999999999}`, 400},
		{serviceKey, `{"subject":"u","max_uploads":-1}`, 400},
		{serviceKey, "{\"subject\":\"u\"}\n", 201},
		{"rotated-out-but-valid-key", `{"subject":"u","ttl_seconds":60}`, 201},
	} {
		code, m := f.post("/v1/upload-tokens", c.auth, "application/json", strings.NewReader(c.body))
		if code != c.status {
			t.Errorf("upload-tokens %q with %q: %d %v, want %d", c.body, c.auth, code, m, c.status)
		}
		if reason, _ := m["error"].(string); strings.ContainsRune(c.body, 'ſ') && !strings.Contains(reason, "ſ") {
			t.Errorf("upload-tokens %q: %q, want the refused name named", c.body, reason)
		}
	}
	// A PNG whose metadata would take seconds to inflate is refused unread.
	if code, m := f.post("/v1/uploads", tok, "image/png", bytes.NewReader(testimage.PNGWithText(t, 2000))); code != 422 {
		t.Errorf("a PNG with 2,000 zTXt chunks: %d %v, want 422", code, m)
	}
}

func TestPrivateMetadataIsGoneAndOrientationBakedIn(t *testing.T) {
	f := newFixture(t, diskStore(t), nil)
	tok := f.uploadToken("u", `,"max_uploads":100`)
	photo := testimage.Photo(t, 800, 500)
	code, res := f.upload(tok, testimage.WithPrivateMetadata(t, photo))
	if code != 201 {
		t.Fatalf("%d %v", code, res)
	}
	stored := f.stored(res["key"].(string))
	for _, secret := range []string{"Jane Secret", "SecretCam", "GPS"} {
		if bytes.Contains(stored, []byte(secret)) {
			t.Errorf("stored original contains %q", secret)
		}
	}
	for _, c := range testimage.WebPChunks(stored) {
		if c == "EXIF" || c == "XMP " || c == "ICCP" {
			t.Errorf("stored original has a %q chunk", c)
		}
	}
	for n := 1; n <= 8; n++ {
		code, res := f.upload(tok, testimage.Oriented(t, 400, 200, n))
		if code != 201 || res["width"] != 400.0 || res["height"] != 200.0 {
			t.Fatalf("orientation %d: %d %v", n, code, res)
		}
		img, err := vips.NewImageFromBuffer(f.stored(res["key"].(string)))
		if err != nil {
			t.Fatal(err)
		}
		if img.Orientation() > 1 {
			t.Errorf("orientation %d: stored original still says orientation %d", n, img.Orientation())
		}
		tl, _ := img.GetPoint(10, 10)
		br, _ := img.GetPoint(390, 190)
		if tl[0] < 150 || tl[2] > 80 || br[2] < 150 || br[0] > 80 {
			t.Errorf("orientation %d: top-left %v, bottom-right %v; want red then blue", n, tl[:3], br[:3])
		}
		img.Close()
	}
}

func TestParallelRetriesOfOneUploadStoreOneObject(t *testing.T) {
	f := newFixture(t, diskStore(t), func(c *Config) { c.PerSubject = 20 })
	tok := f.uploadToken("couple-9", "")
	photo := testimage.Photo(t, 1200, 900)
	src := testimage.JPEG(t, photo)
	var wg sync.WaitGroup
	keys := make([]string, 20)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, res := f.upload(tok, src)
			if code != 201 {
				t.Errorf("%d %v", code, res)
				return
			}
			keys[i] = res["key"].(string)
		}()
	}
	wg.Wait()
	for _, k := range keys {
		if k != keys[0] {
			t.Fatalf("retries got different keys: %v", keys)
		}
	}
	if objs := f.objects(); len(objs) != 1 {
		t.Fatalf("20 uploads of one file stored %d objects", len(objs))
	}
	// Another subject uploading the same bytes gets another key.
	_, res := f.upload(f.uploadToken("someone-else", ""), src)
	if res["key"] == keys[0] {
		t.Fatal("two subjects share a key for the same photo")
	}
}

func TestOverloadAnswers503(t *testing.T) {
	f := newFixture(t, diskStore(t), func(c *Config) { c.Concurrency, c.QueueLength = 1, 0 })
	if err := f.h.pool.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer f.h.pool.Release()
	photo := testimage.Photo(t, 300, 200)
	resp := f.uploadResponse(f.uploadToken("u", ""), testimage.JPEG(t, photo))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("overloaded: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// deferrals is a Deferrer that keeps raw uploads in pending and records
// whom they are deferred for. Production's is deferred.Deferrer, which
// queues them for the deferred worker; deferred's
// TestDeferredUploadBecomesTheDirectOriginal runs that half, into what a
// direct upload stores.
type deferrals struct {
	pending storage.Store
	mu      sync.Mutex
	asked   []deferral
}

type deferral struct{ subject, key string }

func (d *deferrals) Defer(ctx context.Context, subject, key string, raw []byte, contentType string) error {
	if _, err := d.pending.Put(ctx, key, raw, contentType, nil); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, deferral{subject, key})
	return nil
}

// With deferral on, an upload that finds the conversion queue full is stored
// raw and answered 202 with its final key, and the deferrer is asked once,
// for that key and its subject.
func TestBusyUploadsAreDeferred(t *testing.T) {
	// serve's layout: the originals and the pending uploads side by side in
	// one data directory, the resizer reading the originals.
	data := t.TempDir()
	st, err := disk.New(filepath.Join(data, "originals"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, st, func(c *Config) { c.Concurrency, c.QueueLength = 1, 0 })
	pending, err := disk.New(filepath.Join(data, "pending"))
	if err != nil {
		t.Fatal(err)
	}
	deferrer := &deferrals{pending: pending}
	f.h.SetDeferrer(deferrer)
	if err := f.h.pool.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	photo := testimage.Photo(t, 900, 600)
	src := testimage.JPEG(t, photo)
	code, res := f.upload(f.uploadToken("couple-7", ""), src)
	f.h.pool.Release()
	if code != 202 || res["status"] != "pending" {
		t.Fatalf("busy upload: %d %v, want 202 pending", code, res)
	}
	key := res["key"].(string)
	claims, err := f.keys.VerifyResult(res["result_token"].(string), time.Now())
	if err != nil || !claims.Pending || claims.Key != key || claims.Subject != "couple-7" {
		t.Fatalf("pending result token: %+v, %v", claims, err)
	}
	if _, err := st.Head(context.Background(), key); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the original exists before conversion: %v", err)
	}
	if obj, err := pending.Get(context.Background(), key); err != nil {
		t.Fatalf("the raw upload is not pending under its key: %v", err)
	} else if raw, _ := io.ReadAll(obj.Body); !bytes.Equal(raw, src) {
		obj.Body.Close()
		t.Fatalf("pending holds %d bytes, not the %d uploaded", len(raw), len(src))
	} else {
		obj.Body.Close()
	}
	if want := []deferral{{"couple-7", key}}; !slices.Equal(deferrer.asked, want) {
		t.Fatalf("deferred %+v, want %+v", deferrer.asked, want)
	}
	// The raw upload, GPS and all, is out of the resizer's reach however
	// its path is spelled, from the directory beside it.
	for _, p := range []string{"/../pending/" + key, "/%2e%2e/pending/" + key, "/..%2Fpending%2F" + key, "/.%2e/pending/" + key, "/x/../../pending/" + key,
		"/pending/" + key, "/pending%2F" + key, "//pending/" + key, "/./pending/" + key, "/pending//" + key, "/%70ending/" + key,
		"/" + key, "/" + key + "?q=100", "/" + key + "?w=320"} {
		resp, err := http.Get(f.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 || bytes.Contains(body, src[:64]) {
			t.Errorf("GET %s while pending: %d, %d bytes; the raw upload must not be served", p, resp.StatusCode, len(body))
		}
	}
	// Once the uploader has room, the same bytes convert directly under the
	// same key.
	code, direct := f.upload(f.uploadToken("couple-7", ""), src)
	if code != 201 || direct["key"] != key {
		t.Fatalf("direct upload of the same bytes: %d %v; deferred under %s", code, direct, key)
	}
}

// A client that sends part of its body and stalls is cut after IdleTimeout.
func TestStalledUploadIsCut(t *testing.T) {
	f := newFixture(t, diskStore(t), func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n", f.uploadToken("u", ""))
	conn.Write(bytes.Repeat([]byte{0xFF}, 1000))
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	status, _ := io.ReadAll(io.LimitReader(conn, 12))
	if !strings.HasSuffix(string(status), "408") || time.Since(start) > 3*time.Second {
		t.Fatalf("stalled upload answered %q after %v, want 408 soon after the idle timeout", status, time.Since(start))
	}
}
