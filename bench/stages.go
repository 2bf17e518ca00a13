package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/davidbyttow/govips/v2/vips"

	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/resizer"
	"github.com/imgorigin/imgorigin/storage"
	"github.com/imgorigin/imgorigin/storage/disk"
)

// Stages are the median times, in ms, of a scenario's render split into its
// stages (imaging.Stages), from the object the resizer reads for it: the
// original's small copy where it serves the answer, else the original.
type Stages struct {
	Fetch       float64 `json:"fetch"` // the object from the store, read whole
	Decode      float64 `json:"decode"`
	Resize      float64 `json:"resize"`
	Colour      float64 `json:"colour"`
	Encode      float64 `json:"encode"`
	FromSmall   int     `json:"from_small_copy"` // of Renders
	Renders     int     `json:"renders"`
	SourceMP    float64 `json:"source_mp"` // mean megapixels decoded from
	SourceBytes float64 `json:"source_bytes"`
}

// stagesPasses is how many times each key is rendered stage by stage.
const stagesPasses = 3

// stageMedians renders each key width px wide in format, stage by stage,
// stagesPasses times, and returns each stage's median.
func stageMedians(ctx context.Context, st *disk.Store, keys []string, width int, format imaging.Format) (*Stages, error) {
	var fetch, decode, resize, colour, enc []float64
	out := &Stages{}
	for range stagesPasses {
		for _, key := range keys {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			start := time.Now()
			data, h, small, err := renderSource(ctx, st, key, width, format)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			fetch = append(fetch, ms(time.Since(start)))
			t, err := imaging.Stages(data, h, imaging.Transform{Width: width}, renderEncoding(format, width))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			decode, resize, colour, enc = append(decode, ms(t.Decode)), append(resize, ms(t.Resize)), append(colour, ms(t.Colour)), append(enc, ms(t.Encode))
			out.Renders++
			if small {
				out.FromSmall++
			}
			out.SourceMP += float64(h.Width*h.Height) / 1e6
			out.SourceBytes += float64(len(data))
		}
	}
	if out.Renders == 0 {
		return nil, nil
	}
	out.SourceMP /= float64(out.Renders)
	out.SourceBytes /= float64(out.Renders)
	out.Fetch, out.Decode, out.Resize, out.Colour, out.Encode = percentile(fetch, 50), percentile(decode, 50), percentile(resize, 50), percentile(colour, 50), percentile(enc, 50)
	return out, nil
}

// renderSource reads what the resizer renders key from for a width px
// answer in format: the small copy when resizer.SmallCopyServes, else the
// original. Timing it times the fetch (the copy is read first, as the
// resizer does).
func renderSource(ctx context.Context, st *disk.Store, key string, width int, format imaging.Format) ([]byte, imaging.Header, bool, error) {
	if ingest.MayHaveSmallCopy(key) {
		if data, info, err := readWhole(ctx, st, ingest.SmallKey(key)); err == nil {
			h, err := imaging.Probe(data)
			if whole, _, ok := resizer.SmallCopyOf(h, info.Meta); err == nil && ok &&
				resizer.SmallCopyServes(resizer.Options{Width: width, Format: format}, whole, h) {
				return data, h, true, nil
			}
		}
	}
	data, _, err := readWhole(ctx, st, key)
	if err != nil {
		return nil, imaging.Header{}, false, err
	}
	h, err := imaging.Probe(data)
	return data, h, false, err
}

func readWhole(ctx context.Context, st *disk.Store, key string) ([]byte, storage.Info, error) {
	obj, err := st.Get(ctx, key)
	if err != nil {
		return nil, storage.Info{}, err
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(obj.Body)
	return data, obj.Info, err
}

// twelveMPPixels is the area of a phone's photo.
const twelveMPPixels = 12_000_000

// twelveMPOriginals stores each source upscaled to 12 MP, as uploads keep it
// with --original-max-edge 4500 (a phone's photo whole), small copy
// included, and returns their keys and original bytes.
func twelveMPOriginals(ctx context.Context, st *disk.Store, srcs []source) (keys []string, originals [][]byte, err error) {
	orig := imaging.DefaultOriginal()
	orig.MaxEdge = 4500
	in, err := ingest.New(st, ingest.Config{Limits: imaging.DefaultLimits(), Original: orig, KeySecret: benchKeySecret})
	if err != nil {
		return nil, nil, err
	}
	for _, s := range srcs {
		img, err := vips.NewImageFromBuffer(s.data)
		if err != nil {
			return nil, nil, err
		}
		err = img.Resize(math.Sqrt(twelveMPPixels/float64(img.Width()*img.Height())), vips.KernelLanczos3)
		var jpeg []byte
		if err == nil {
			jpeg, _, err = img.ExportJpeg(&vips.JpegExportParams{Quality: 90})
		}
		img.Close()
		if err != nil {
			return nil, nil, err
		}
		res, err := in.Ingest(ctx, "bench-12mp", jpeg)
		if err != nil {
			return nil, nil, fmt.Errorf("ingest 12 MP %s: %w", s.name, err)
		}
		keys, originals = append(keys, res.Key), append(originals, res.Data)
	}
	return keys, originals, nil
}
