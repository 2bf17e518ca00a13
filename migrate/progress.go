package migrate

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are a worker's counters and the migration's totals, for
// dashboards and autoscalers (the queue gauges are the same on every
// worker: they come from the shared queue and progress store).
type Metrics struct {
	jobs       *prometheus.CounterVec
	photos     prometheus.Counter
	bytesSaved prometheus.Counter
	progress   *prometheus.GaugeVec
	queue      *prometheus.GaugeVec
}

// NewMetrics registers the migration's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgorigin_migrate_jobs_total",
			Help: "Jobs (groups) this worker finished or failed (failed jobs are delivered again)."}, []string{"result"}),
		photos: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgorigin_migrate_photos_total",
			Help: "Photos this worker migrated; rate() is photos/s."}),
		bytesSaved: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgorigin_migrate_bytes_saved_total",
			Help: "Storage bytes this worker's photos freed: legacy original and thumbnails deleted, less the new original."}),
		progress: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "imgorigin_migrate_photos",
			Help: "Photos of the whole migration, by state: done, total."}, []string{"state"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "imgorigin_migrate_queue_jobs",
			Help: "Jobs in the queue: pending (queued or in flight), dead (dead-lettered)."}, []string{"state"}),
	}
	reg.MustRegister(m.jobs, m.photos, m.bytesSaved, m.progress, m.queue)
	return m
}

// groupDone counts a finished job's photos and the bytes they freed.
func (m *Metrics) groupDone(recs []PhotoRecord) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues("done").Inc()
	for _, r := range recs {
		m.photos.Inc()
		saved := r.OldBytes + r.ThumbBytes - r.NewBytes
		if !r.OriginalDel {
			saved -= r.OldBytes // the legacy original stays
		}
		m.bytesSaved.Add(float64(max(saved, 0)))
	}
}

func (m *Metrics) groupFailed() {
	if m != nil {
		m.jobs.WithLabelValues("failed").Inc()
	}
}

// ReportProgress logs the migration's progress every interval until ctx
// ends (done of total, rate, ETA, queue) and keeps m's totals current: a
// run of hours says how it is going without anyone asking.
func ReportProgress(ctx context.Context, state *State, queue Queue, m *Metrics, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	lastDone, lastAt := -1, time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := state.Stats(ctx)
		if err != nil {
			log.Warn("migrate: progress unavailable", "err", err)
			continue
		}
		pending, dead, err := queue.Counts(ctx)
		if err != nil {
			log.Warn("migrate: queue counts unavailable", "err", err)
			continue
		}
		now := time.Now()
		rate := 0.0
		if lastDone >= 0 {
			rate = float64(st.Done-lastDone) / now.Sub(lastAt).Seconds()
		}
		lastDone, lastAt = st.Done, now
		attrs := []any{"done", st.Done, "total", st.Photos, "groups_done", st.GroupsDone, "groups", st.Groups,
			"photos_per_s", math.Round(rate*10) / 10, "queued", pending, "dead", dead}
		if rate > 0 {
			attrs = append(attrs, "eta", (time.Duration(float64(st.Photos-st.Done)/rate) * time.Second).Round(time.Second).String())
		}
		log.Info("migrate progress", attrs...)
		if m != nil {
			m.progress.WithLabelValues("done").Set(float64(st.Done))
			m.progress.WithLabelValues("total").Set(float64(st.Photos))
			m.queue.WithLabelValues("pending").Set(float64(pending))
			m.queue.WithLabelValues("dead").Set(float64(dead))
		}
	}
}
