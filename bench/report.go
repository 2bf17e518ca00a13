package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Result is one scenario's figures; the JSON names are what scripts read.
type Result struct {
	Scenario          string      `json:"scenario"`
	Description       string      `json:"description"`
	Mode              string      `json:"mode"`
	Requests          int         `json:"requests"`
	Errors            int         `json:"errors"`
	StatusCounts      map[int]int `json:"status_counts"`
	RPS               float64     `json:"rps"`
	P50               float64     `json:"p50_ms"`
	P90               float64     `json:"p90_ms"`
	P99               float64     `json:"p99_ms"`
	P999              float64     `json:"p999_ms"`
	Max               float64     `json:"max_ms"`
	RSSMB             float64     `json:"rss_mb"`           // peak
	RSSQuartilesMB    []float64   `json:"rss_mb_quartiles"` // at 25/50/75/100 % of the run
	CPUSecondsPer1k   float64     `json:"cpu_s_per_1k"`
	BytesOut          int64       `json:"bytes_out"`
	StoreGetsPerImage float64     `json:"store_gets_per_image"`
	VariantHitRatio   float64     `json:"variant_hit_ratio"`
	OriginalHitRatio  float64     `json:"original_hit_ratio"`
	FloorRPS          float64     `json:"floor_rps,omitempty"`
	FloorRatio        float64     `json:"floor_ratio,omitempty"`
	Aborted           *Aborted    `json:"aborted_uploads,omitempty"`
	// Stages is where a render's time goes (see stageMedians).
	Stages *Stages `json:"stages_ms,omitempty"`
}

// Aborted is resident memory around a burst of abandoned uploads.
type Aborted struct {
	Count      int     `json:"count"`
	BaselineMB float64 `json:"rss_baseline_mb"`
	AfterMB    float64 `json:"rss_after_mb"`
}

// CorpusFile is one source photo and the original stored for it.
type CorpusFile struct {
	Name          string `json:"name"`
	SourceBytes   int64  `json:"source_bytes"`
	OriginalBytes int64  `json:"original_bytes"`
	// SmallCopyBytes is the original's small copy (0: none).
	SmallCopyBytes int64   `json:"small_copy_bytes"`
	Width          int     `json:"width"`
	Height         int     `json:"height"`
	SSIM           float64 `json:"ssim"`
	// Faces found in it at ingest.
	Faces int `json:"faces"`
}

// Report is a whole run.
type Report struct {
	Started time.Time `json:"started"`
	Config  Config    `json:"config"`
	Corpus  struct {
		Files []CorpusFile `json:"files"`
	} `json:"corpus"`
	Results []Result       `json:"results"`
	Migrate *MigrateResult `json:"migrate,omitempty"`
	Views   *ViewsReport   `json:"views,omitempty"`
	Quality []QualityRow   `json:"quality,omitempty"`
}

// WriteJSON writes the results as the JSON: one object per scenario
// (the migration, when run, as one more object with scenario "migrate").
func (r *Report) WriteJSON(path string) error {
	rows := []any{}
	for _, x := range r.Results {
		rows = append(rows, x)
	}
	if r.Migrate != nil {
		rows = append(rows, struct {
			Scenario string `json:"scenario"`
			*MigrateResult
		}{"migrate", r.Migrate})
	}
	if r.Views != nil {
		rows = append(rows, struct {
			Scenario string `json:"scenario"`
			*ViewsReport
		}{"views", r.Views})
	}
	if r.Quality != nil {
		rows = append(rows, struct {
			Scenario string       `json:"scenario"`
			Rows     []QualityRow `json:"rows"`
		}{"quality", r.Quality})
	}
	b, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// WriteMarkdown writes the human report.
func (r *Report) WriteMarkdown(w io.Writer) {
	corpus := r.Config.Corpus
	if corpus == "" {
		corpus = "generated photo-like 2048x1536 JPEGs"
	}
	fmt.Fprintf(w, "# imgorigin bench — %s\n\n", r.Started.Format("2006-01-02 15:04 MST"))
	var mp float64
	for _, f := range r.Corpus.Files {
		mp += float64(f.Width*f.Height) / 1e6 / float64(len(r.Corpus.Files))
	}
	fmt.Fprintf(w, "%d cores (GOMAXPROCS %d), %s, warm-up %s, duration %s per scenario; corpus: %s (%d files, originals %.1f MP on average).\n\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS+"/"+runtime.GOARCH, r.Config.Warmup, r.Config.Duration, corpus, len(r.Corpus.Files), mp)
	fmt.Fprintln(w, "| scenario | load | requests | errors | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | RSS MB | CPU s / 1k | store GETs / image | variant hits | floor req/s | of floor |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, x := range r.Results {
		floor, ratio := "", ""
		if x.FloorRPS > 0 {
			floor, ratio = fmt.Sprintf("%.1f", x.FloorRPS), fmt.Sprintf("%.0f %%", 100*x.FloorRatio)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f | %.2f | %.3f | %.0f %% | %s | %s |\n",
			x.Scenario, x.Mode, x.Requests, errorsCell(x), x.RPS, x.P50, x.P90, x.P99, x.P999, x.Max, x.RSSMB, x.CPUSecondsPer1k, x.StoreGetsPerImage, 100*x.VariantHitRatio, floor, ratio)
	}
	fmt.Fprintln(w)
	for _, x := range r.Results {
		fmt.Fprintf(w, "- **%s**: %s\n", x.Scenario, x.Description)
	}
	r.writeStages(w)
	if m := r.Migrate; m != nil {
		fmt.Fprintf(w, "\n## Migration\n\n%d legacy photos (%.1f MP sources, 5 thumbnails each) migrated disk to disk in %.1f s: %.1f photos/s, %.1f per core; %.3f CPU s a photo, so $%.2f per million photos at $%.4f a spot vCPU-hour (c7g class; Graviton assumed as fast per core as this machine). RSS at 25/50/75/100 %% of the run: %.0f MB.\n",
			m.Photos, m.SourceMegapixels, m.Seconds, m.PhotosPerSecond, m.PerCore, m.CPUSecondsPhoto, m.CostPerMillion, SpotVCPUHour, m.RSSQuartilesMB)
	}
	if v := r.Views; v != nil {
		fmt.Fprintf(w, "\n## What a view costs\n\nA default resizer (no variant cache) asked with `auto=format` and `Accept: %s` (and again without image/avif: rows no-avif:): each original at 320, 640 and 1080 px (srcset), and %d views of the shield mix. Distance: butteraugli against the same URL rendered lossless (PNG); below 1 is invisible.\n\n", v.Accept, v.ShieldViews)
		fmt.Fprintln(w, "| set | format | long edge | views | bytes / view | butteraugli | p50 ms | p99 ms |\n|---|---|---|---:|---:|---:|---:|---:|")
		for _, x := range v.Rows {
			fmt.Fprintf(w, "| %s | %s | %s | %d | %.0f | %.2f | %.1f | %.1f |\n", x.Set, x.Format, x.Size, x.Views, x.BytesPerView, x.Distance, x.P50ms, x.P99ms)
		}
		fmt.Fprintf(w, "\nsrcset: %d bytes in all, butteraugli %.2f mean; shield mix: %.0f bytes a view, butteraugli %.2f mean.\n", v.SrcsetBytes, v.SrcsetDistance, v.ShieldPerView, v.ShieldDistance)
		fmt.Fprintln(w, "\nWhat browsers get against what they get without AVIF (WebP; as with --auto-avif=false), per size class. The aim: AVIF within +0.05 of WebP's distance, at most 0.75x its bytes.\n\n| set | long edge | browsers get | bytes | butteraugli | WebP bytes | WebP butteraugli | bytes ratio | distance difference |\n|---|---|---|---:|---:|---:|---:|---:|---:|")
		for _, c := range v.Classes {
			fmt.Fprintf(w, "| %s | %s | %s | %.0f | %.2f | %.0f | %.2f | %.2f | %+.2f |\n", c.Set, c.Size, c.Format, c.Bytes, c.Distance, c.WebPBytes, c.WebPDistance, c.Bytes/c.WebPBytes, c.Distance-c.WebPDistance)
		}
	}
	if len(r.Quality) > 0 {
		fmt.Fprintln(w, "\n## Encoder quality against butteraugli\n\nEach original at each width, in each format at each encoder quality (at the effort the resizer uses), against the same rendition lossless. One q looks alike in every format where the distances match: imaging.EncoderQuality's map.\n\n| format | encoder q | width | bytes | butteraugli | render ms |\n|---|---:|---:|---:|---:|---:|")
		for _, x := range r.Quality {
			fmt.Fprintf(w, "| %s | %d | %d | %.0f | %.2f | %.1f |\n", x.Format, x.Quality, x.Width, x.Bytes, x.Distance, x.Ms)
		}
	}
	for _, x := range r.Results {
		if a := x.Aborted; a != nil {
			fmt.Fprintf(w, "\n%d aborted 12 MP uploads (half the body, then hang up): RSS %.0f MB before, %.0f MB after (%+.1f %%).\n", a.Count, a.BaselineMB, a.AfterMB, 100*(a.AfterMB/a.BaselineMB-1))
		}
	}
	if len(r.Corpus.Files) > 0 {
		fmt.Fprintln(w, "\n## Originals against their sources\n\n| file | source bytes | WebP original bytes | change | small copy bytes | of the original | size | SSIM | faces |\n|---|---:|---:|---:|---:|---:|---|---:|---:|")
		var src, orig, small int64
		var ssim float64
		faces := 0
		for _, f := range r.Corpus.Files {
			src, orig, small, ssim = src+f.SourceBytes, orig+f.OriginalBytes, small+f.SmallCopyBytes, ssim+f.SSIM/float64(len(r.Corpus.Files))
			faces += f.Faces
			fmt.Fprintf(w, "| %s | %d | %d | %+.1f %% | %d | %.0f %% | %dx%d | %.4f | %d |\n", f.Name, f.SourceBytes, f.OriginalBytes, 100*(float64(f.OriginalBytes)/float64(f.SourceBytes)-1),
				f.SmallCopyBytes, 100*float64(f.SmallCopyBytes)/float64(f.OriginalBytes), f.Width, f.Height, f.SSIM, f.Faces)
		}
		fmt.Fprintf(w, "| **all** | %d | %d | %+.1f %% | %d | %.0f %% | | %.4f mean | %d |\n", src, orig, 100*(float64(orig)/float64(src)-1), small, 100*float64(small)/float64(orig), ssim, faces)
	}
	fmt.Fprintln(w, "\nRSS and CPU are of the benchmark process, which runs the server in-process (load generator included). The floor is libvips alone in-process: thumbnail of the same in-memory WebP originals (never their small copies) + an encode in the scenario's format at the resizer's quality and effort, on the same number of workers.")
}

// writeStages writes where a render's time goes, for the scenarios that
// measured it.
func (r *Report) writeStages(w io.Writer) {
	header := false
	for _, x := range r.Results {
		st := x.Stages
		if st == nil {
			continue
		}
		if !header {
			fmt.Fprintln(w, "\n## Where a render's time goes\n\nMedian ms of each stage, run apart (each computed into memory before the next: libvips fuses them when serving), one render of each photo at the scenario's width and format, three times; from the object the resizer reads for it.\n\n| scenario | fetch | decode | resize | colour | encode | sum | from small copy | source MP | source bytes |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
			header = true
		}
		fmt.Fprintf(w, "| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %d of %d | %.2f | %.0f |\n", x.Scenario, st.Fetch, st.Decode, st.Resize, st.Colour, st.Encode,
			st.Fetch+st.Decode+st.Resize+st.Colour+st.Encode, st.FromSmall, st.Renders, st.SourceMP, st.SourceBytes)
	}
}

func errorsCell(x Result) string {
	if x.Errors == 0 {
		return "0"
	}
	var parts []string
	for code, n := range x.StatusCounts {
		if code != 200 {
			parts = append(parts, fmt.Sprintf("%d×%d", n, code))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
