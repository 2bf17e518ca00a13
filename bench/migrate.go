package bench

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"time"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/migrate"
	"github.com/imgorigin/imgorigin/role"
	"github.com/imgorigin/imgorigin/storage/disk"
)

// SpotVCPUHour is the price assumed for the cost line: a c7g-class spot vCPU
// hour (c7g.large spot has been about $0.029 an hour for 2 vCPUs).
const SpotVCPUHour = 0.0145

// MigrateResult is the migration benchmark's figures.
type MigrateResult struct {
	Photos           int       `json:"photos"`
	Seconds          float64   `json:"seconds"`
	PhotosPerSecond  float64   `json:"photos_per_second"`
	PerCore          float64   `json:"photos_per_second_per_core"`
	CPUSecondsPhoto  float64   `json:"cpu_seconds_per_photo"`
	CostPerMillion   float64   `json:"usd_per_million_photos"`
	RSSQuartilesMB   []float64 `json:"rss_mb_at_25_50_75_100_percent"`
	SourceMegapixels float64   `json:"source_megapixels_avg"`
}

// runMigrate migrates n legacy photos (the corpus sources cycled, each made
// unique, with five thumbnails) from one disk store to another, the embedded
// queue and SQLite state, a worker per core; RSS is sampled throughout.
func runMigrate(ctx context.Context, dir string, sources [][]byte, n int, log *slog.Logger) (*MigrateResult, error) {
	src, err := disk.New(filepath.Join(dir, "legacy"))
	if err != nil {
		return nil, err
	}
	res := &MigrateResult{Photos: n}
	for i, s := range sources {
		h, err := imaging.Probe(s)
		if err != nil {
			return nil, fmt.Errorf("source %d: %w", i, err)
		}
		res.SourceMegapixels += float64(h.Width*h.Height) / 1e6 / float64(len(sources))
	}
	for i := range n {
		base := fmt.Sprintf("legacy/user-%04d/photo-%05d", i/5, i)
		data := append(append([]byte{}, sources[i%len(sources)]...), base...) // unique bytes after the JPEG end
		if _, err := src.Put(ctx, base+".jpg", data, "image/jpeg", nil); err != nil {
			return nil, err
		}
		for _, size := range []string{"64", "128", "320", "640", "1080"} {
			if _, err := src.Put(ctx, base+"_"+size+".jpg", []byte("thumbnail"), "image/jpeg", nil); err != nil {
				return nil, err
			}
		}
	}
	// Put together as `imgorigin migrate` is (role), on the embedded queue
	// and SQLite, a worker per core.
	m, err := role.OpenMigration(ctx, role.MigrationConfig{Stores: role.Stores{Store: filepath.Join(dir, "migrated"), Data: filepath.Join(dir, "data")},
		Source: "file://" + filepath.Join(dir, "legacy"), Originals: "legacy/{group}/{photo}.jpg", Thumbnails: "legacy/{group}/{photo}_{size}.jpg",
		StateDir: dir, MaxAttempts: 5, Worker: migrate.WorkerConfig{Concurrency: runtime.NumCPU(), Drain: true}})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	plan, err := m.Source(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := migrate.Plan(ctx, plan, m.Layout, m.State, m.Queue); err != nil {
		return nil, err
	}
	samples := sampleRSS(250 * time.Millisecond)
	before, start := readUsage(), time.Now()
	err = m.Work(ctx, nil, log)
	elapsed, after := time.Since(start), readUsage()
	series := samples()
	if err != nil {
		return nil, err
	}
	st, err := m.State.Stats(ctx)
	if err != nil {
		return nil, err
	}
	if st.Done != n {
		return nil, fmt.Errorf("migrated %d of %d photos", st.Done, n)
	}
	res.Seconds = elapsed.Seconds()
	res.PhotosPerSecond = float64(n) / res.Seconds
	res.PerCore = res.PhotosPerSecond / float64(runtime.NumCPU())
	res.CPUSecondsPhoto = (after.cpu - before.cpu).Seconds() / float64(n)
	res.CostPerMillion = res.CPUSecondsPhoto * 1e6 / 3600 * SpotVCPUHour
	res.RSSQuartilesMB = quartiles(series)
	return res, nil
}
