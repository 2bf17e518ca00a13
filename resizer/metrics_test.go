package resizer

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/imgorigin/imgorigin/internal/testimage"
	"github.com/imgorigin/imgorigin/internal/testwait"
)

// The request histogram tells renders from cache hits, and the bytes sent
// are counted by the format they were sent in.
func TestMetricsTellHitsFromRendersAndCountBytesByFormat(t *testing.T) {
	f := newFixture(t, nil)
	f.put("photo", testimage.JPEG(t, testimage.Photo(t, 800, 600)))
	requests := func(status, cache string) float64 { return histogramCount(t, f, status, cache) }
	sent := map[string]int{}
	for _, c := range []struct{ path, format, cache string }{
		{"/photo?w=320", "jpeg", "miss"}, // the source's format
		{"/photo?w=320", "jpeg", "hit"},
		{"/photo?w=320&fm=webp", "webp", "miss"},
		{"/photo?w=320&fm=avif", "avif", "miss"},
		{"/photo?w=320&fm=png", "png", "miss"},
		{"/photo?w=320&fm=json", "json", "miss"},
	} {
		before := requests("200", c.cache)
		resp, body := f.get(c.path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
		}
		// The answer is sent before the request is counted (its bytes just
		// before).
		testwait.For(t, fmt.Sprintf("%s counted once with cache=%q", c.path, c.cache), func() bool { return requests("200", c.cache)-before == 1 })
		if got := formatOf(resp.Header.Get("Content-Type")); got != c.format {
			t.Errorf("%s: answered %s, want %s", c.path, got, c.format)
		}
		sent[c.format] += len(body)
	}
	for format, n := range sent {
		if got := testutil.ToFloat64(f.h.metrics.bytesOut.WithLabelValues(format)); got != float64(n) {
			t.Errorf("%s: %v bytes counted, %d sent", format, got, n)
		}
	}
	before := requests("404", "none")
	if resp, _ := f.get("/nothing-here?w=320"); resp.StatusCode != 404 {
		t.Errorf("a missing key: %d", resp.StatusCode)
	}
	testwait.For(t, "a 404 counted once with cache=none", func() bool { return requests("404", "none")-before == 1 })
}

// histogramCount is how many observations the request histogram holds for
// status and cache.
func histogramCount(t *testing.T, f *fixture, status, cache string) float64 {
	t.Helper()
	m := &dto.Metric{}
	if err := f.h.metrics.requests.WithLabelValues(status, cache).(prometheus.Histogram).Write(m); err != nil {
		t.Fatal(err)
	}
	return float64(m.GetHistogram().GetSampleCount())
}
