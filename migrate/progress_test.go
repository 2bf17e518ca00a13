package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imgorigin/imgorigin/internal/testwait"
	"github.com/imgorigin/imgorigin/storage/disk"
)

// A long run says how it goes: the worker counts jobs, photos and bytes
// saved, and progress lines give done of total, rate and queue.
func TestProgressAndMetrics(t *testing.T) {
	src, _ := disk.New(t.TempDir())
	dst, _ := disk.New(t.TempDir())
	legacy(t, src, 6, 3)
	r := newRig(t, src, dst, engines[0])
	if _, err := Plan(context.Background(), src, r.layout, r.state, r.queue); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ReportProgress(ctx, r.state, r.queue, m, 20*time.Millisecond, log); close(done) }()
	r.run(t, WorkerConfig{Concurrency: 2, Metrics: m, DeleteOriginals: true})
	testwait.For(t, "a report after the last job", func() bool {
		return testutil.ToFloat64(m.progress.WithLabelValues("done")) == 18
	})
	cancel()
	<-done

	if got := testutil.ToFloat64(m.jobs.WithLabelValues("done")); got != 6 {
		t.Errorf("jobs done = %v, want 6", got)
	}
	if got := testutil.ToFloat64(m.photos); got != 18 {
		t.Errorf("photos = %v, want 18", got)
	}
	if got := testutil.ToFloat64(m.bytesSaved); got <= 0 {
		t.Errorf("bytes saved = %v, want the legacy bytes less the new originals'", got)
	}
	if testutil.ToFloat64(m.progress.WithLabelValues("done")) != 18 || testutil.ToFloat64(m.progress.WithLabelValues("total")) != 18 ||
		testutil.ToFloat64(m.queue.WithLabelValues("pending")) != 0 {
		t.Error("progress gauges are not current")
	}
	var last map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "migrate progress" {
			last = rec
		}
	}
	if last == nil || last["done"] != 18.0 || last["total"] != 18.0 || last["queued"] != 0.0 || last["dead"] != 0.0 {
		t.Fatalf("last progress line %v", last)
	}
}
