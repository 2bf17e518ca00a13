package resizer

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/imgorigin/imgorigin/imaging"
)

// paletteColor is one colour of palette=json, as imgix writes it (channels
// 0..1), with the share of the image it stands for.
type paletteColor struct {
	Red   float64 `json:"red"`
	Green float64 `json:"green"`
	Blue  float64 `json:"blue"`
	Hex   string  `json:"hex"`
	Share float64 `json:"share"`
}

type paletteAnswer struct {
	Colors           []paletteColor `json:"colors"`
	AverageLuminance float64        `json:"average_luminance"`
}

// paletteVariant answers palette=json or css like any variant, cached: the
// original's colours, found on a 64 px copy in a render slot.
func (h *Handler) paletteVariant(ctx context.Context, rq request) (*variant, error) {
	return h.cachedAnswer(ctx, rq, func(wctx context.Context) (*variant, error) {
		o, err := h.original(wctx, rq.key)
		if err != nil {
			return nil, err
		}
		if err := h.pool.Acquire(wctx); err != nil {
			return nil, err
		}
		swatches, lum, err := imaging.Palette(o.data, o.header, rq.opts.Colors)
		h.pool.Release()
		if err != nil {
			return nil, err
		}
		v := &variant{origETag: o.info.ETag, lastModified: o.info.LastModified}
		v.data, v.contentType = paletteBody(swatches, lum, rq.opts)
		return v, nil
	})
}

func paletteBody(swatches []imaging.Swatch, lum float64, o Options) ([]byte, string) {
	round := func(f float64) float64 { return math.Round(f*1000) / 1000 }
	if o.Palette == "css" {
		var b strings.Builder
		for i, s := range swatches {
			hex := fmt.Sprintf("#%02x%02x%02x", s.Color.R, s.Color.G, s.Color.B)
			fmt.Fprintf(&b, ".%s-fg-%d { color:%s !important; }\n.%s-bg-%d { background-color:%s !important; }\n", o.Prefix, i+1, hex, o.Prefix, i+1, hex)
		}
		return []byte(b.String()), "text/css; charset=utf-8"
	}
	a := paletteAnswer{Colors: []paletteColor{}, AverageLuminance: round(lum)}
	for _, s := range swatches {
		c := s.Color
		a.Colors = append(a.Colors, paletteColor{Red: round(float64(c.R) / 255), Green: round(float64(c.G) / 255), Blue: round(float64(c.B) / 255),
			Hex: fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B), Share: round(s.Share)})
	}
	body, _ := json.Marshal(a)
	return body, "application/json"
}
