package resizer

import (
	"context"
	"encoding/json"
	"time"

	"github.com/imgorigin/imgorigin/facts"
	"github.com/imgorigin/imgorigin/imaging"
	"github.com/imgorigin/imgorigin/storage"
)

// Info is the answer to fm=json: what is known of an original, with
// imgix's names for its size beside ours (imgix's libraries read those).
type Info struct {
	Key string `json:"key"`
	facts.Facts
	Bytes       int64 `json:"bytes"`
	PixelWidth  int   `json:"PixelWidth"`
	PixelHeight int   `json:"PixelHeight"`
	// Faces, with faces=1: the largest first, in the original's pixels.
	Faces []facts.Face `json:"faces,omitempty"`
}

// factsVariant answers fm=json like any variant, cached: from the facts kept
// with the original (one HEAD, or the cached original), else computed from
// its bytes once (its header, and a 100 px decode for the placeholder when
// that is within what the request may have decoded). Nothing is written to
// the store: reads never write.
func (h *Handler) factsVariant(ctx context.Context, rq request) (*variant, error) {
	return h.cachedAnswer(ctx, rq, func(wctx context.Context) (*variant, error) {
		info, err := h.head(wctx, rq.key)
		if err != nil {
			return nil, err
		}
		f, ok := facts.FromMeta(info.Meta)
		if !ok {
			if f, err = h.computeFacts(wctx, rq); err != nil {
				return nil, err
			}
		}
		answer := Info{Key: rq.key, Facts: f, Bytes: info.Size, PixelWidth: f.Width, PixelHeight: f.Height}
		if rq.opts.ListFaces {
			if answer.Faces, err = h.listFaces(wctx, rq.key, f); err != nil {
				return nil, err
			}
		}
		body, err := json.Marshal(answer)
		if err != nil {
			return nil, err
		}
		return &variant{data: body, contentType: "application/json", origETag: info.ETag, lastModified: info.LastModified}, nil
	})
}

// cachedAnswer answers what is not an image of the original (its facts,
// its palette) like any variant: from the cache while the original is still
// stored, else made once for all who ask at once, then cached.
func (h *Handler) cachedAnswer(ctx context.Context, rq request, answer func(context.Context) (*variant, error)) (*variant, error) {
	vkey := rq.key + "?" + rq.opts.String()
	if v, ok := h.variants.Get(vkey); ok {
		return v, h.stillStored(ctx, rq.key)
	}
	v, _, err := h.renders.Do(ctx, vkey, func(wctx context.Context) (*variant, error) {
		v, err := answer(wctx)
		if err == nil {
			h.variants.Add(vkey, v)
		}
		return v, err
	})
	return v, err
}

// head describes the original: from memory when it is cached, else a HEAD.
func (h *Handler) head(ctx context.Context, key string) (storage.Info, error) {
	if o, ok := h.originals.Get(key); ok {
		return o.info, h.stillStored(ctx, key)
	}
	if err, ok := h.recent.refused(key, time.Now()); ok {
		return storage.Info{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.StoreTimeout)
	defer cancel()
	info, err := h.store.Head(ctx, key)
	if err != nil {
		return info, h.storeError(err)
	}
	h.checks.mark(key, time.Now())
	return info, nil
}

// computeFacts reads an original stored without facts (before they were
// kept, or by another program) and works them out, in a render slot.
func (h *Handler) computeFacts(ctx context.Context, rq request) (facts.Facts, error) {
	o, err := h.original(ctx, rq.key)
	if err != nil {
		return facts.Facts{}, err
	}
	if err := h.pool.Acquire(ctx); err != nil {
		return facts.Facts{}, err
	}
	defer h.pool.Release()
	thumb := imaging.Transform{Width: 100, Height: 100, Fit: imaging.FitClip}
	cheap := rq.signed || imaging.DecodedPixels(o.header, thumb, imaging.WebP)*imaging.DecodeWeight(o.header) <= h.cfg.Unsigned.MaxDecodePixels
	f, err := facts.Of(o.data, o.header, cheap && h.cfg.Limits.CheckRender(o.header, thumb, imaging.WebP) == nil)
	return f, err
}

// listFaces are the original's faces for fm=json&faces=1: those kept with
// it, else found on the original, in a render slot.
func (h *Handler) listFaces(ctx context.Context, key string, f facts.Facts) ([]facts.Face, error) {
	if f.FacesKnown {
		return f.Faces, nil
	}
	o, err := h.original(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := h.pool.Acquire(ctx); err != nil {
		return nil, err
	}
	defer h.pool.Release()
	return h.facesOf(key, o)
}
