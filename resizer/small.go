package resizer

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/ingest"
	"github.com/imgorigin/imgorigin/storage"
)

// nearby is a store of several regions (regions.Router): a small copy is
// read only from the nearest store that may hold it.
type nearby interface {
	GetNearby(ctx context.Context, key string) (*storage.Object, error)
}

// lacksSmallFor is how long a photo found without a small copy is read
// from its original without asking for one again: a copy appears only when
// the migration or an upload is run again.
const lacksSmallFor = 10 * time.Minute

// source is what a variant is made from, with the options checked against
// the original's header: the original's small copy when it makes the same
// answer (SmallCopyServes), else the original.
func (h *Handler) source(ctx context.Context, rq request) (*original, Options, error) {
	if s, ropts, ok := h.small(ctx, rq); ok {
		return s, ropts, nil
	}
	o, err := h.original(ctx, rq.key)
	if err != nil {
		return nil, Options{}, err
	}
	ropts, err := h.cfg.renderOptions(rq.opts, o.header, rq.signed)
	return o, ropts, err
}

// small is the small copy of rq's original, and rq's options checked
// against the original's header, when the copy serves rq. Any failure to
// read it falls back to the original, which answers for itself.
func (h *Handler) small(ctx context.Context, rq request) (*original, Options, bool) {
	if !h.mayServeSmall(rq.opts) || !ingest.MayHaveSmallCopy(rq.key) {
		return nil, Options{}, false
	}
	if at, ok := h.lacksSmall.since(rq.key); ok && time.Since(at) < lacksSmallFor {
		return nil, Options{}, false
	}
	s, err := h.object(ctx, ingest.SmallKey(rq.key), rq.key)
	if errors.Is(err, storage.ErrNotFound) {
		h.lacksSmall.mark(rq.key, time.Now())
	}
	if err != nil {
		return nil, Options{}, false
	}
	whole, etag, ok := SmallCopyOf(s.header, s.info.Meta)
	if !ok {
		return nil, Options{}, false
	}
	ropts, err := h.cfg.renderOptions(rq.opts, whole, rq.signed)
	if err != nil || !SmallCopyServes(ropts, whole, s.header) {
		return nil, Options{}, false
	}
	copied := *s
	copied.info.ETag = etag // an answer is the same variant of the same original either way
	copied.of = &whole
	h.metrics.smallCopies.Inc()
	return &copied, ropts, true
}

// SmallCopyOf reads what a small copy (header small, store metadata meta)
// keeps of its original: the original's header and ETag. ok is false for
// an object that is no small copy ingest made.
func SmallCopyOf(small imaging.Header, meta storage.Meta) (whole imaging.Header, etag string, ok bool) {
	f, ok := facts.FromMeta(meta)
	etag = meta[facts.MetaOf]
	if !ok || etag == "" || small.Pages > 1 || small.Orientation > 1 {
		return imaging.Header{}, "", false
	}
	whole = small
	whole.Width, whole.Height, whole.Format = f.Width, f.Height, f.Format
	return whole, etag, true
}

// mayServeSmall is what can be told of a request before the copy is read:
// a lossy answer of a given size no larger than the copies are made.
func (h *Handler) mayServeSmall(o Options) bool {
	switch o.Format {
	case "", imaging.WebP, imaging.AVIF, imaging.JPEG:
	default:
		return false
	}
	long := max(o.Width, o.Height)
	// A turn, a frame or a zoom changes which pixels of the original the
	// box holds: those read the original.
	plain := o.Orient <= 1 && o.Frame == (imaging.Frame{}) && o.Zoom <= 1 && o.Rect == nil && o.TrimMode == "" && !o.FaceArea
	return h.cfg.SmallCopyEdge > 0 && long > 0 && long <= h.cfg.SmallCopyEdge && !o.Lossless && !o.Fit.Pads() && plain
}

// SmallCopyServes reports whether a small copy of small's size makes the answer
// opts asks of the original whole as well as the original does: a lossy
// answer whose every pixel is a downscale of the copy's (the answer's
// scale of the original is at most the copy's).
func SmallCopyServes(o Options, whole, small imaging.Header) bool {
	if f := outputFormat(o.Format, whole.Format); o.Lossless || (f != imaging.WebP && f != imaging.AVIF && f != imaging.JPEG) {
		return false
	}
	sw, sh := whole.Upright()
	w, h := outputBox(o, sw, sh)
	fx, fy := float64(w)/float64(sw), float64(h)/float64(sh)
	scale := min(fx, fy) // fit inside the box
	if o.Fit.Crops() || o.Fit == imaging.FitScale {
		scale = max(fx, fy) // cover it
	}
	return scale <= float64(small.Width)/float64(sw)
}

// fitInside is the exact size of an answer that fits inside opts' box (no
// enlarging: the copy serves only smaller answers), from the original's
// sw x sh, as a box to stretch to.
func fitInside(o Options, sw, sh int) (w, h int, fit imaging.Fit) {
	if o.Fit == imaging.FitScale {
		return o.Width, o.Height, o.Fit
	}
	fx, fy := float64(o.Width)/float64(sw), float64(o.Height)/float64(sh)
	scale := min(fx, fy, 1)
	switch {
	case o.Height == 0:
		scale = min(fx, 1)
	case o.Width == 0:
		scale = min(fy, 1)
	}
	return max(1, int(math.Round(float64(sw)*scale))), max(1, int(math.Round(float64(sh)*scale))), imaging.FitScale
}
