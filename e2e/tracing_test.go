package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
	"github.com/imgorigin/imgorigin/storage/s3/s3test"
	"github.com/imgorigin/imgorigin/storage/storagetest"
)

// With OTEL_EXPORTER_OTLP_ENDPOINT set, `imgorigin serve` on S3 sends its
// traces to a real Jaeger (built by make test), continuing the caller's W3C
// trace: a cold render is request → fetch → S3 GetObject, and render →
// decode+resize, encode, each stage inside its parent's time; a cached hit
// has no store span; an upload is convert, store (with its S3 calls) and
// token.
func TestTracesReachJaeger(t *testing.T) {
	jaegerBin := os.Getenv("IMGORIGIN_TEST_JAEGER")
	if jaegerBin == "" {
		t.Fatal("IMGORIGIN_TEST_JAEGER is not set: run the tests with `make test`, which builds Jaeger")
	}
	ports := freePorts(t, 3)
	jaeger := exec.Command(jaegerBin, "--config", "file:testdata/jaeger.yaml")
	jaeger.Env = append(os.Environ(), "JAEGER_OTLP_PORT="+strconv.Itoa(ports[0]), "JAEGER_QUERY_PORT="+strconv.Itoa(ports[1]),
		"JAEGER_QUERY_GRPC_PORT="+strconv.Itoa(ports[2]))
	var jaegerLog bytes.Buffer
	jaeger.Stdout, jaeger.Stderr = &jaegerLog, &jaegerLog
	if err := jaeger.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jaeger.Process.Kill(); jaeger.Wait() })
	query := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	testwait.Within(t, 30*time.Second, "jaeger's query API", func() bool {
		resp, err := http.Get(query + "/api/services")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:"+strconv.Itoa(ports[0]))
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50") // ms between exports
	s := serve(t, "--store", "s3://"+s3test.NewBucket(t)+"?path_style=true&endpoint="+storagetest.S3Endpoint(t), "--original-cache-bytes", "0")

	// An upload, under a trace of the caller's.
	tok := s.uploadToken(t)
	trace, parent := newTraceParent()
	req, _ := http.NewRequest("POST", s.URL+"/v1/uploads", bytes.NewReader(testimage.JPEG(t, testimage.Photo(t, 3000, 2000))))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("traceparent", parent)
	var up struct{ Key string }
	if status := doJSON(t, req, &up); status != 201 {
		t.Fatalf("upload: %d", status)
	}
	spans := traceSpans(t, query, trace, "token")
	root := spans.only(t, "POST /v1/uploads")
	for _, name := range []string{"convert", "store", "token"} {
		spans.childOf(t, spans.only(t, name), root)
	}
	if puts := spans.named("S3 PutObject"); len(puts) != 2 || !slices.ContainsFunc(puts, func(p span) bool { return p.parent() == spans.only(t, "store").SpanID }) {
		t.Errorf("upload: S3 PutObject spans %v, want two (the original and its copy) under store", puts)
	}

	// A cold render: the store read and the render, each inside its parent.
	url := s.URL + "/" + up.Key + "?w=320&fm=webp"
	trace, parent = newTraceParent()
	get(t, url, parent)
	spans = traceSpans(t, query, trace, "encode")
	root = spans.only(t, "GET /{key}")
	fetch, render := spans.only(t, "fetch"), spans.only(t, "render")
	s3get := spans.only(t, "S3 GetObject")
	decode, encode := spans.only(t, "decode+resize"), spans.only(t, "encode")
	spans.childOf(t, fetch, root)
	spans.childOf(t, render, root)
	spans.childOf(t, s3get, fetch)
	spans.childOf(t, decode, render)
	spans.childOf(t, encode, render)
	if fetch.tag("source") != "store" {
		t.Errorf("cold render: fetch from %q, want store", fetch.tag("source"))
	}
	for _, c := range []struct {
		parent   span
		children []span
	}{{root, []span{fetch, render}}, {fetch, []span{s3get}}, {render, []span{decode, encode}}} {
		var sum int64
		for _, ch := range c.children {
			sum += ch.Duration
			if ch.StartTime < c.parent.StartTime || ch.StartTime+ch.Duration > c.parent.StartTime+c.parent.Duration {
				t.Errorf("%s (%d µs from %d) is not inside %s (%d µs from %d)", ch.OperationName, ch.Duration, ch.StartTime, c.parent.OperationName, c.parent.Duration, c.parent.StartTime)
			}
		}
		t.Logf("%s: %d µs, of which its children %d µs (%.0f %%)", c.parent.OperationName, c.parent.Duration, sum, 100*float64(sum)/float64(c.parent.Duration))
	}
	if d, e, r := decode.Duration, encode.Duration, render.Duration; d+e < r/2 {
		t.Errorf("decode+resize %d µs and encode %d µs are less than half the render's %d µs", d, e, r)
	}

	// The same URL again: the variant cache answers, no store is read.
	trace, parent = newTraceParent()
	get(t, url, parent)
	spans = traceSpans(t, query, trace, "GET /{key}")
	for _, name := range []string{"fetch", "S3 GetObject", "render"} {
		if len(spans.named(name)) != 0 {
			t.Errorf("cached hit: a %s span", name)
		}
	}
	if t.Failed() {
		t.Logf("jaeger's log:\n%s", jaegerLog.String())
	}
}

// newTraceParent is a new trace id and a W3C traceparent naming it, sampled.
func newTraceParent() (trace, header string) {
	var id [24]byte
	rand.Read(id[:])
	trace = hex.EncodeToString(id[:16])
	return trace, "00-" + trace + "-" + hex.EncodeToString(id[16:]) + "-01"
}

func get(t *testing.T, url, traceparent string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("traceparent", traceparent)
	if resp := send(t, req); resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
}

// span is one span of Jaeger's API (times in µs).
type span struct {
	SpanID        string
	OperationName string
	References    []struct{ RefType, SpanID string }
	StartTime     int64
	Duration      int64
	Tags          []struct {
		Key   string
		Value any
	}
}

func (s span) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

func (s span) tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

type spanList []span

func (l spanList) named(name string) []span {
	var out []span
	for _, s := range l {
		if s.OperationName == name {
			out = append(out, s)
		}
	}
	return out
}

func (l spanList) only(t *testing.T, name string) span {
	t.Helper()
	found := l.named(name)
	if len(found) != 1 {
		t.Fatalf("%d spans named %q in %v", len(found), name, l)
	}
	return found[0]
}

func (l spanList) childOf(t *testing.T, child, parent span) {
	t.Helper()
	if child.parent() != parent.SpanID {
		t.Errorf("%s is not a child of %s", child.OperationName, parent.OperationName)
	}
}

// traceSpans polls Jaeger for trace until it holds a span named last.
func traceSpans(t *testing.T, query, trace, last string) spanList {
	t.Helper()
	var spans spanList
	testwait.Within(t, 20*time.Second, "trace "+trace+" in jaeger", func() bool {
		resp, err := http.Get(query + "/api/traces/" + trace)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var out struct{ Data []struct{ Spans spanList } }
		if json.NewDecoder(resp.Body).Decode(&out) != nil || len(out.Data) == 0 {
			return false
		}
		spans = out.Data[0].Spans
		return len(spans.named(last)) > 0
	})
	return spans
}
