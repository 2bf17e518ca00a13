package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/imgorigin/imgorigin/imaging"
)

// QualityRow is one encoder setting at one size, over every photo: what
// imaging.EncoderQuality's map is read from.
type QualityRow struct {
	Format   string  `json:"format"`
	Quality  int     `json:"encoder_quality"`
	Width    int     `json:"width"`
	Bytes    float64 `json:"bytes_mean"`
	Distance float64 `json:"butteraugli_mean"`
	Ms       float64 `json:"render_ms_mean"`
}

// qualityGrid is the encoder qualities swept per format.
var qualityGrid = map[imaging.Format][]int{
	imaging.WebP: {50, 60, 70, 75, 80, 85, 90},
	imaging.AVIF: {40, 45, 50, 55, 58, 60, 62, 65, 70, 75, 80},
	imaging.JPEG: {50, 60, 70, 75, 80, 85, 90},
}

// runQuality renders each original at 320, 640 and 1080 px in every format
// at every quality of the grid, at the effort the resizer uses, and compares
// each with the lossless rendition by butteraugli.
func runQuality(ctx context.Context, originals [][]byte) ([]QualityRow, error) {
	if _, err := exec.LookPath("butteraugli"); err != nil {
		return nil, fmt.Errorf("quality: the butteraugli command is needed (Debian's butteraugli package; make test installs it): %w", err)
	}
	dir, err := os.MkdirTemp("", "imgorigin-quality")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// Rows in a fixed order (format, quality, width), summed over the
	// photos; each photo's lossless reference at a width is rendered once
	// for all the rows of that width.
	widths := []int{320, 640, 1080}
	var rows []QualityRow
	for _, f := range []imaging.Format{imaging.WebP, imaging.AVIF, imaging.JPEG} {
		for _, q := range qualityGrid[f] {
			for _, w := range widths {
				rows = append(rows, QualityRow{Format: string(f), Quality: q, Width: w})
			}
		}
	}
	n := 0
	for _, src := range originals {
		h, err := imaging.Probe(src)
		if err != nil {
			return nil, err
		}
		for _, w := range widths {
			t := imaging.Transform{Width: w, Fit: imaging.FitClip}
			ref, err := imaging.Render(ctx, src, h, t, imaging.Encoding{Format: imaging.PNG, Effort: 1}, imaging.DefaultLimits())
			if err != nil {
				return nil, err
			}
			for i := range rows {
				row := &rows[i]
				if row.Width != w {
					continue
				}
				f := imaging.Format(row.Format)
				start := time.Now()
				out, err := imaging.Render(ctx, src, h, t, imaging.Encoding{Format: f, Quality: row.Quality, Effort: imaging.Effort(f, w, 0)}, imaging.DefaultLimits())
				if err != nil {
					return nil, err
				}
				ms := float64(time.Since(start).Microseconds()) / 1000
				d, _, err := distance(dir, n, ref.Bytes, out.Bytes)
				if err != nil {
					return nil, fmt.Errorf("quality: %s q%d at %d px: %w", f, row.Quality, w, err)
				}
				n++
				row.Bytes, row.Distance, row.Ms = row.Bytes+float64(len(out.Bytes)), row.Distance+d, row.Ms+ms
			}
		}
	}
	k := float64(len(originals))
	for i := range rows {
		rows[i].Bytes, rows[i].Distance, rows[i].Ms = rows[i].Bytes/k, rows[i].Distance/k, rows[i].Ms/k
	}
	return rows, nil
}
