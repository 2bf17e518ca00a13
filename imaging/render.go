package imaging

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/davidbyttow/govips/v2/vips"
	"go.opentelemetry.io/otel/attribute"

	"github.com/imgorigin/imgorigin/internal/tracing"
)

// Fit says how a source goes into the requested box (imgix's names and
// meanings). Clip, crop and fill enlarge a smaller source only when the
// Transform allows Upscale; max, min and fillmax never do; scale always does.
type Fit string

const (
	FitClip    Fit = "clip"    // fit inside the box, keep aspect
	FitMax     Fit = "max"     // as clip, never enlarged
	FitCrop    Fit = "crop"    // cover the box, then crop to it
	FitMin     Fit = "min"     // as crop, never enlarged: a smaller box of the same aspect
	FitFill    Fit = "fill"    // fit inside, then pad to the box with Background
	FitFillMax Fit = "fillmax" // as fill, never enlarged: the source padded to the box
	FitScale   Fit = "scale"   // stretch to the box exactly
	FitClamp   Fit = "clamp"   // as fill, the edge pixels extended instead of a colour
)

// Fits lists every Fit.
var Fits = []Fit{FitClip, FitMax, FitCrop, FitMin, FitFill, FitFillMax, FitScale, FitClamp}

// Crops reports whether f covers the box and crops (crop, min).
func (f Fit) Crops() bool { return f == FitCrop || f == FitMin }

// MayEnlarge reports whether f enlarges a smaller source when the
// Transform allows Upscale (clip, crop, fill; scale always stretches).
func (f Fit) MayEnlarge() bool { return f == FitClip || f == FitCrop || f == FitFill || f == FitClamp }

// Pads reports whether f pads to the box (fill, fillmax, clamp).
func (f Fit) Pads() bool { return f == FitFill || f == FitFillMax || f == FitClamp }

// Gravity says what a crop keeps.
type Gravity string

const (
	GravityCenter    Gravity = "center"
	GravityEntropy   Gravity = "entropy"
	GravityAttention Gravity = "attention"
	// GravityFaces is a crop around the faces found (the resizer makes it a
	// focal point, or attention where there is none).
	GravityFaces Gravity = "faces"
	GravityFocal Gravity = "focalpoint" // FocalX, FocalY
)

// Color is an RGBA colour; A=0 is fully transparent.
type Color struct{ R, G, B, A uint8 }

// White is what alpha is flattened onto for formats without it, unless asked otherwise.
var White = Color{255, 255, 255, 255}

// Transform is the geometry of one rendition.
type Transform struct {
	// Width and Height of the box in pixels; 0 follows from the other and the
	// aspect ratio; both 0 keeps the source size.
	Width, Height  int
	Fit            Fit
	Gravity        Gravity
	FocalX, FocalY float64 // 0..1, for GravityFocal
	// Background pads fill and fillmax, and replaces alpha in formats without
	// it. Nil: transparent padding where the format has alpha, else white.
	Background *Color
	// Upscale lets clip, crop and fill enlarge a source smaller than the box.
	Upscale bool
	// Blur is a Gaussian blur's sigma as a fraction of the output's long
	// edge (0: none), so that one value looks alike at every size.
	Blur float64
	// Orient overrides the file's EXIF orientation (1..8; 0 keeps it);
	// the box is of the image so turned.
	Orient int
	// Zoom (at least 1; 0 is 1) cuts a focal-point crop that many times
	// closer around the focal point.
	Zoom float64
	// Effects run on the resized image.
	Effects Effects
	// Frame surrounds the image inside the box: the image is resized to
	// what the frame leaves of it.
	Frame Frame
	// Mask cuts the framed image to an ellipse or rounds its corners.
	Mask Mask
	// Blend, then Mark, then Text, are laid on the finished image.
	Blend, Mark *Overlay
	Text        *Text
	// Fill fills a padding fit's padding (zero: the pad colour).
	Fill Fill
	// Grid lays an image with alpha on a checkerboard of its two colours,
	// GridSize pixels a square.
	Grid     *[2]Color
	GridSize int
	// FocalDebug draws crosshairs through the focal point of a focal crop.
	FocalDebug bool
	// Region, then Trim, cut the source before anything else.
	Region *Region
	Trim   *Trim
}

// Encoding is how a rendition is written.
type Encoding struct {
	Format      Format // JPEG, PNG, WebP or AVIF
	Quality     int    // 1..100
	Effort      int    // WebP 0..6, AVIF 0..9, PNG compression 0..9; higher is smaller and slower
	Progressive bool   // JPEG only
	Chroma      int    // JPEG only: 444 keeps chroma whole; otherwise 4:2:0, as imgix
	DPI         int    // written in the file's resolution field (JPEG, PNG); 0: libvips' 72
	// Colors makes PNG a palette of at most this many colours (the
	// largest power of two not above it); 0: true colour.
	Colors int
	// Profile embeds an ICC profile: "srgb", "tinysrgb" (a compact sRGB
	// one), or "origin" (the source's, its pixels not converted); "": none
	// (untagged sRGB). JPEG, PNG and WebP.
	Profile string
	// KeepIPTC keeps the source's IPTC block in JPEG.
	KeepIPTC bool
	Lossless bool // WebP and AVIF; Quality then does not apply
}

// Output is an encoded rendition.
type Output struct {
	Bytes         []byte
	Format        Format
	Width, Height int // of one frame
	Frames        int
}

// maxCoord stands for "unbounded" in a libvips thumbnail box (VIPS_MAX_COORD).
const maxCoord = 10_000_000

// Render makes one rendition of src, whose header h the caller has probed. It
// checks lim before decoding, and decodes at most once, shrinking on load.
// Once ctx is done the work stops at the next tile libvips computes (or
// libwebp's next progress report) with ctx's error.
func Render(ctx context.Context, src []byte, h Header, t Transform, e Encoding, lim Limits) (Output, error) {
	if err := lim.CheckRender(h, t, e.Format); err != nil {
		return Output{}, err
	}
	animated := KeptFrames(h, e.Format) > 1
	if animated && (t.Effects != Effects{} || t.Frame != Frame{} || t.Mask != Mask{} || t.Blend != nil || t.Mark != nil || t.Text != nil || correction(h.Orientation, t.Orient) != 1 || t.Region != nil || t.Trim != nil) {
		return Output{}, fmt.Errorf("%w: effects, frames, orient, rect and trim on an animation", ErrUnsupported)
	}
	dctx, span := tracing.Start(ctx, "decode+resize")
	img, err := decoded(ctx, src, h, t, e, animated)
	if err == nil && tracing.Recording(dctx) {
		// libvips decodes while the encode pulls pixels: a traced render
		// computes them first, so that each span times its own stage.
		if err = inMemory(img); err != nil {
			img.Close()
		}
	}
	tracing.End(span, err)
	if err != nil {
		return Output{}, err
	}
	defer img.Close()
	_, span = tracing.Start(ctx, "encode", attribute.String("format", string(e.Format)))
	stop := whenDone(ctx, img)
	out, err := encode(img, e)
	stop()
	if ctx.Err() != nil {
		out, err = Output{}, ctx.Err()
	}
	tracing.End(span, err)
	return out, err
}

// decoded is src decoded, shrunk on load, resized and finished for t (all
// but the encode): libvips' pipeline, to be computed as it is encoded.
func decoded(ctx context.Context, src []byte, h Header, t Transform, e Encoding, animated bool) (*vips.ImageRef, error) {
	img, regionDone, err := regionThumbnail(src, h, t)
	if err != nil {
		return nil, err
	}
	if !regionDone {
		if t.Region != nil || t.Trim != nil {
			if src, h, t, err = cropped(src, h, t); err != nil {
				return nil, err
			}
		}
		if img, err = thumbnail(ctx, src, h, t, animated); err != nil {
			return nil, err
		}
	} else {
		t.Region, t.Orient = nil, 0 // done
	}
	if t.Blur > 0 {
		if animated {
			img.Close()
			return nil, fmt.Errorf("%w: blur on an animation", ErrUnsupported)
		}
		if img, err = blurred(ctx, src, h, t, img); err != nil {
			return nil, err
		}
	}
	if err := finish(img, t, e); err != nil {
		img.Close()
		return nil, err
	}
	return img, nil
}

// KeptFrames is how many frames rendering h as out decodes and encodes: all
// of an animated GIF or WebP kept as WebP, else the first.
func KeptFrames(h Header, out Format) int {
	if h.Pages > 1 && out == WebP && (h.Format == GIF || h.Format == WebP) {
		return h.Pages
	}
	return 1
}

// DecodedPixels is how many pixels rendering h with t as out decodes:
// every kept frame, each shrunk on load where the format allows.
func DecodedPixels(h Header, t Transform, out Format) int64 {
	return decodedPixels(h, KeptFrames(h, out), LoadShrink(h, t))
}

// CheckRender refuses rendering h with t as out when what it decodes is
// over the limits, before any pixel is decoded.
func (l Limits) CheckRender(h Header, t Transform, out Format) error {
	return l.Check(h, KeptFrames(h, out), LoadShrink(h, t))
}

func decodedPixels(h Header, frames, shrink int) int64 {
	return int64(ceilDiv(h.Width, shrink)) * int64(ceilDiv(h.Height, shrink)) * int64(frames)
}

// DecodeWeight is what decoding one pixel of h costs, in pixels of baseline
// JPEG (and WebP), as measured here on 12 MP photos: progressive JPEG, PNG
// and GIF decode about twice as slowly (100-200 ms against 25-135 ms), TIFF
// (deflate), HEIC and AVIF about four times (TIFF 310-510 ms).
func DecodeWeight(h Header) int64 {
	switch {
	case h.Format == TIFF || h.Format == HEIC || h.Format == AVIF:
		return 4
	case h.Format == PNG || h.Format == GIF || h.Progressive:
		return 2
	}
	return 1
}

// LoadShrink is the factor libvips' thumbnail will shrink each side of h by
// while decoding it for t: JPEG only (DCT scaling), and not progressive
// JPEG, whose decoder holds the whole image's coefficients anyway. It is
// libvips 8.14's rule (vips_thumbnail_find_jpegshrink): 8, 4 or 2 once the
// overall shrink is at least twice that, leaving room for a final resize.
func LoadShrink(h Header, t Transform) int {
	if h.Format != JPEG || h.Progressive || t.Upscale || t.Fit == FitScale {
		return 1
	}
	t = t.asStored(correction(h.Orientation, t.Orient))
	sw, sh := h.Upright()
	w, ht := t.Width, t.Height
	if w == 0 && ht == 0 {
		return 1
	}
	fw, fh := math.Inf(1), math.Inf(1) // a side not asked does not bound the shrink
	if w > 0 {
		fw = float64(sw) / float64(w)
	}
	if ht > 0 {
		fh = float64(sh) / float64(ht)
	}
	s := math.Min(fw, fh) // a crop covers the box: the side that shrinks least
	if !t.Fit.Crops() && w > 0 && ht > 0 {
		s = math.Max(fw, fh) // fit inside the box: the side that shrinks most
	}
	switch {
	case s >= 16:
		return 8
	case s >= 8:
		return 4
	case s >= 4:
		return 2
	}
	return 1
}

// thumbnail decodes with shrink-on-load (JPEG DCT scaling, WebP scaled decode,
// HEIF thumbnails) straight to about the box size, applying EXIF orientation.
func thumbnail(ctx context.Context, src []byte, h Header, t Transform, animated bool) (*vips.ImageRef, error) {
	turn := correction(h.Orientation, t.Orient)
	img, err := thumbnailAsStored(ctx, src, h, t.asStored(turn), animated)
	if err == nil && turn != 1 {
		if err = orient(img, turn); err != nil {
			img.Close()
		}
	}
	return img, err
}

// asStored is t for the image as libvips turns it by its own EXIF
// orientation, before the turn that orient asks: the box inside the frame,
// its sides exchanged and its focal point mapped back where the turn
// exchanges or mirrors them.
func (t Transform) asStored(turn int) Transform {
	t.Width, t.Height = t.Frame.Inside(t.Width, t.Height)
	if swaps(turn) {
		t.Width, t.Height = t.Height, t.Width
	}
	t.FocalX, t.FocalY = undoPoint(turn, t.FocalX, t.FocalY)
	return t
}

// thumbnailAsStored is thumbnail before the turn orient asks.
func thumbnailAsStored(ctx context.Context, src []byte, h Header, t Transform, animated bool) (*vips.ImageRef, error) {
	sw, sh := h.Upright()
	w, ht := t.Width, t.Height
	if w == 0 && ht == 0 {
		w, ht = sw, sh
	}
	params := vips.NewImportParams() // fail on truncated or corrupt data
	if animated {
		params.NumPages.Set(-1)
	}
	size, crop := vips.SizeDown, vips.InterestingNone
	upscale := t.Upscale && t.Fit.MayEnlarge()
	if upscale {
		size = vips.SizeBoth
	}
	switch {
	case t.Fit == FitScale && w > 0 && ht > 0 && !animated:
		return stretch(ctx, src, h, w, ht, params)
	case t.Fit == FitScale && w > 0 && ht > 0:
		size = vips.SizeForce
	case t.Fit.Crops() && w > 0 && ht > 0:
		// Unless enlarging is allowed, shrink the requested box to fit in the
		// source, keeping the box's aspect ratio, so the crop is what was
		// asked for, only smaller.
		if !upscale && (w > sw || ht > sh) {
			f := math.Min(float64(sw)/float64(w), float64(sh)/float64(ht))
			w, ht = max(1, int(math.Round(float64(w)*f))), max(1, int(math.Round(float64(ht)*f)))
		}
		switch t.Gravity {
		case GravityEntropy:
			crop = vips.InterestingEntropy
		case GravityAttention, GravityFaces:
			crop = vips.InterestingAttention
		case GravityFocal:
			return focalCrop(ctx, src, h, w, ht, t, size, params)
		default:
			crop = vips.InterestingCentre
		}
	}
	if w == 0 {
		w = maxCoord
	}
	if ht == 0 {
		ht = maxCoord
	}
	return loadThumbnail(ctx, src, h, w, ht, crop, size, params)
}

// stretch scales src to exactly w x ht. libvips 8.14's thumbnail can come
// out a pixel off (WebP's scaled decode rounds one way, its last resize the
// other): that pixel is cut, or its neighbour copied, rather than the whole
// image resampled again.
func stretch(ctx context.Context, src []byte, h Header, w, ht int, params *vips.ImportParams) (*vips.ImageRef, error) {
	img, err := loadThumbnail(ctx, src, h, w, ht, vips.InterestingNone, vips.SizeForce, params)
	if err != nil {
		return nil, err
	}
	if img.Width() == w && img.Height() == ht {
		return img, nil
	}
	if img.Width() > w || img.Height() > ht {
		err = img.ExtractArea(0, 0, min(w, img.Width()), min(ht, img.Height()))
	}
	if err == nil && (img.Width() < w || img.Height() < ht) {
		err = img.Embed(0, 0, w, ht, vips.ExtendCopy)
	}
	if err != nil {
		img.Close()
		return nil, err
	}
	return img, nil
}

// focalCrop scales the source to just cover w x ht (zoom times that), then
// cuts the box centred as near the focal point as the edges allow.
func focalCrop(ctx context.Context, src []byte, h Header, w, ht int, t Transform, size vips.Size, params *vips.ImportParams) (*vips.ImageRef, error) {
	sw, sh := h.Upright()
	fx, fy, zoom := t.FocalX, t.FocalY, max(t.Zoom, 1)
	bw, bh := int(math.Round(float64(w)*zoom)), maxCoord
	if float64(w)/float64(sw) < float64(ht)/float64(sh) {
		bw, bh = maxCoord, int(math.Round(float64(ht)*zoom))
	}
	img, err := loadThumbnail(ctx, src, h, bw, bh, vips.InterestingNone, size, params)
	if err != nil {
		return nil, err
	}
	sw2, sh2 := img.Width(), img.Height() // the scaled source
	w, ht = min(w, sw2), min(ht, sh2)
	left := clamp(int(math.Round(fx*float64(sw2)-float64(w)/2)), 0, sw2-w)
	top := clamp(int(math.Round(fy*float64(sh2)-float64(ht)/2)), 0, sh2-ht)
	if err := img.ExtractArea(left, top, w, ht); err != nil {
		img.Close()
		return nil, err
	}
	if t.FocalDebug {
		// Two lines through where the focal point lands in the box.
		x := clamp(int(fx*float64(sw2))-left, 0, w-1)
		y := clamp(int(fy*float64(sh2))-top, 0, ht-1)
		red := vips.ColorRGBA{R: 255, A: 255}
		if err := img.DrawRect(red, x, 0, 1, ht, true); err != nil {
			img.Close()
			return nil, err
		}
		if err := img.DrawRect(red, 0, y, w, 1, true); err != nil {
			img.Close()
			return nil, err
		}
	}
	return img, nil
}

// finish pads, converts to sRGB, drops metadata and alpha where needed.
func finish(img *vips.ImageRef, t Transform, e Encoding) error {
	var origin []byte // the source's profile, kept with its pixels as they are
	if e.Profile == "origin" && img.HasICCProfile() && img.Interpretation() != vips.InterpretationCMYK {
		origin = img.GetICCProfile()
		if err := img.RemoveICCProfile(); err != nil { // so toSRGB leaves the pixels alone
			return err
		}
	}
	if err := toSRGB(img); err != nil {
		return err
	}
	if err := t.Effects.apply(img, t.Background); err != nil {
		return err
	}
	if err := padToBox(img, t, e); err != nil {
		return err
	}
	if err := t.Frame.apply(img, padColour(t, e)); err != nil {
		return err
	}
	if err := t.Mask.apply(img); err != nil {
		return err
	}
	if err := layOn(img, t); err != nil {
		return err
	}
	if img.HasAlpha() && e.Format == JPEG {
		bg := White
		if t.Background != nil {
			bg = *t.Background
		}
		if err := img.Flatten(&vips.Color{R: bg.R, G: bg.G, B: bg.B}); err != nil {
			return err
		}
	}
	var iptc []byte
	if e.KeepIPTC {
		iptc = img.GetBlob("iptc-data")
	}
	if err := strip(img); err != nil {
		return err
	}
	if len(iptc) > 0 {
		if err := setBlob(img, "iptc-data", iptc); err != nil {
			return err
		}
	}
	return embedProfile(img, e.Profile, origin)
}

// padToBox pads a padding fit's image to its box (inside the frame): with
// the fill, the edge pixels (clamp) or the pad colour.
func padToBox(img *vips.ImageRef, t Transform, e Encoding) error {
	bw, bh := t.Frame.Inside(t.Width, t.Height)
	if !t.Fit.Pads() || bw <= 0 || bh <= 0 || (img.Width() >= bw && img.PageHeight() >= bh) {
		return nil
	}
	if img.Pages() > 1 {
		return fmt.Errorf("%w: fit=fill on an animation", ErrUnsupported)
	}
	left, top := (bw-img.Width())/2, (bh-img.Height())/2
	switch {
	case t.Fill != (Fill{}):
		bg, err := t.Fill.background(img, bw, bh)
		if err != nil {
			return err
		}
		defer bg.Close()
		return under(img, bg, left, top, bw, bh)
	case t.Fit == FitClamp:
		return img.Embed(left, top, bw, bh, vips.ExtendCopy)
	}
	return embed(img, left, top, bw, bh, padColour(t, e))
}

// layOn lays the blend, the watermark and the text on img, then, where it
// has alpha, puts it on the transparency grid.
func layOn(img *vips.ImageRef, t Transform) error {
	for _, o := range []*Overlay{t.Blend, t.Mark} {
		if o != nil {
			if err := o.apply(img); err != nil {
				return err
			}
		}
	}
	if t.Text != nil {
		if err := t.Text.apply(img); err != nil {
			return err
		}
	}
	if t.Grid == nil || !img.HasAlpha() {
		return nil
	}
	grid, err := checkerboard(img.Width(), img.Height(), t.GridSize, t.Grid[0], t.Grid[1])
	if err != nil {
		return err
	}
	defer grid.Close()
	if err := img.Composite(grid, vips.BlendModeDestOver, 0, 0); err != nil {
		return err
	}
	if err := img.ExtractBand(0, img.Bands()-1); err != nil { // opaque now
		return err
	}
	return img.Cast(vips.BandFormatUchar)
}

// profilePath is the file of the sRGB profile cs names ("" for others).
func profilePath(profile string) (string, error) {
	switch profile {
	case "srgb":
		return vips.GetSRGBIEC6196621ICCProfilePath()
	case "tinysrgb":
		return vips.GetSRGBV2MicroICCProfilePath()
	}
	return "", nil
}

// embedProfile attaches the ICC profile cs names.
func embedProfile(img *vips.ImageRef, profile string, origin []byte) error {
	if profile == "origin" {
		if len(origin) > 0 {
			return setBlob(img, "icc-profile-data", origin)
		}
		return nil
	}
	path, err := profilePath(profile)
	if err != nil || path == "" {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return setBlob(img, "icc-profile-data", b)
}

// toSRGB converts through the embedded ICC profile (Adobe RGB, Display P3,
// CMYK...) or libvips' CMYK profile for CMYK without one, then to 8-bit sRGB.
// Output carries no profile: untagged images are shown as sRGB.
func toSRGB(img *vips.ImageRef) error {
	cmyk := img.Interpretation() == vips.InterpretationCMYK
	if img.HasICCProfile() || cmyk {
		fallback := vips.SRGBIEC6196621ICCProfilePath
		if cmyk {
			fallback = "cmyk"
		}
		if err := img.TransformICCProfileWithFallback(vips.SRGBIEC6196621ICCProfilePath, fallback); err != nil {
			return fmt.Errorf("colour conversion: %w", err)
		}
	}
	switch img.Interpretation() {
	case vips.InterpretationSRGB, vips.InterpretationBW:
		if img.BandFormat() == vips.BandFormatUchar {
			return nil
		}
	}
	return img.ToColorSpace(vips.InterpretationSRGB)
}

// strip removes every metadata field. libvips 8.14.1 (Debian 12) ignores the
// savers' strip option for WebP, so EXIF (GPS!), XMP, IPTC and ICC must be gone
// from the image itself before encoding.
func strip(img *vips.ImageRef) error {
	if err := img.RemoveMetadata(); err != nil {
		return err
	}
	if err := img.RemoveICCProfile(); err != nil {
		return err
	}
	return img.RemoveOrientation()
}

// Encode encodes img as e, as Render ends: for the benchmark's floor, which
// is libvips alone on the same encoders.
func Encode(img *vips.ImageRef, e Encoding) (Output, error) { return encode(img, e) }

func encode(img *vips.ImageRef, e Encoding) (Output, error) {
	var (
		b   []byte
		err error
	)
	// strip took the image's own metadata away already: what savers write
	// without their strip is what was asked (a resolution, a profile, IPTC).
	keep := e.DPI > 0 || e.Profile != "" || e.KeepIPTC
	if e.DPI > 0 {
		// libvips keeps resolution in pixels per millimetre.
		res, err := img.CopyChangingResolution(float64(e.DPI)/25.4, float64(e.DPI)/25.4)
		if err != nil {
			return Output{}, err
		}
		defer res.Close()
		img = res
	}
	switch e.Format {
	case WebP:
		q := e.Quality
		if e.Lossless {
			// libwebp reads quality as effort in lossless mode: 1 (govips
			// sends no 0) is 10x faster than 80 at 4096 px (1.3 against
			// 13.4 s here) for the same bytes within 0.1 %.
			q = 1
		}
		// The source's own profile ("origin") is kept in JPEG and PNG only.
		if path, _ := profilePath(e.Profile); path != "" && !setWebPProfile(img, path) {
			return Output{}, errors.New("govips keeps its WebP profile elsewhere")
		}
		b, _, err = img.ExportWebp(&vips.WebpExportParams{
			StripMetadata: !keep, Quality: q, ReductionEffort: e.Effort, Lossless: e.Lossless,
			// libwebp's defaults for animations (gif2webp): a key frame every 9-17.
			MinKeyFrames: 9, MaxKeyFrames: 17,
		})
		b = stripWebPMetadata(b, e.Profile != "")
	case JPEG:
		sub := vips.VipsForeignSubsampleOn
		if e.Chroma == 444 {
			sub = vips.VipsForeignSubsampleOff
		}
		b, _, err = img.ExportJpeg(&vips.JpegExportParams{StripMetadata: !keep, Quality: e.Quality, Interlace: e.Progressive, OptimizeCoding: true, SubsampleMode: sub})
	case PNG:
		b, _, err = img.ExportPng(&vips.PngExportParams{StripMetadata: !keep, Palette: e.Colors > 0, Bitdepth: paletteDepth(e.Colors), Compression: e.Effort, Filter: vips.PngFilterAll})
	case AVIF:
		b, err = exportAVIF(img, e.Quality, e.Effort, e.Lossless)
	default:
		return Output{}, fmt.Errorf("%w: cannot encode %q", ErrUnsupported, e.Format)
	}
	if err != nil {
		// Pixels are decoded lazily, during the encode: a failure here is almost
		// always the source's fault (truncated, corrupt), not the encoder's.
		return Output{}, fmt.Errorf("%w: %v", ErrCorrupt, oneLine(err))
	}
	// n-pages counts the file's frames, not the decoded ones: derive from heights.
	ph := img.PageHeight()
	return Output{Bytes: b, Format: e.Format, Width: img.Width(), Height: ph, Frames: max(1, img.Height()/ph)}, nil
}

// blurDirect is the largest sigma blurred at the output's size: a
// Gaussian's cost grows with its sigma, so a larger blur is made on a copy
// decoded that much smaller (shrink-on-load), blurred by this sigma and
// enlarged to the output's size (blurred pixels hold no detail to lose).
// Its cost no longer grows with sigma; the enlargement is what it adds (at
// 1080 px 45-60 ms against 36 ms without a blur, at 2560 px 160-180 against
// 80 ms; the resizer bounds unsigned blurs by size).
const blurDirect = 4.0

// blurred blurs img, the lazily computed still thumbnail of src with t (its
// pixels are only computed by the encode, so for a large sigma they never
// are: img is closed and a smaller thumbnail made instead).
func blurred(ctx context.Context, src []byte, h Header, t Transform, img *vips.ImageRef) (*vips.ImageRef, error) {
	w, ht := img.Width(), img.Height()
	sigma := t.Blur * float64(max(w, ht))
	if sigma > blurDirect {
		k := sigma / blurDirect
		small := t
		small.Width, small.Height = max(1, int(float64(w)/k)), max(1, int(float64(ht)/k))
		if t.Fit != FitClip || t.Width == 0 && t.Height == 0 {
			small.Fit = FitScale // the same region, only smaller (crop and fill boxes, or the whole source)
			if t.Fit.Crops() || t.Fit.Pads() {
				small.Fit = t.Fit
			}
		}
		small.Upscale = true
		small.Frame = Frame{} // img is already the box inside the frame
		img.Close()
		var err error
		if img, err = thumbnail(ctx, src, h, small, false); err != nil {
			return nil, err
		}
		sigma = blurDirect
	}
	if err := toSRGB(img); err != nil { // blur in sRGB, as it is shown
		img.Close()
		return nil, err
	}
	if err := img.GaussianBlur(sigma); err != nil {
		img.Close()
		return nil, err
	}
	if img.Width() != w || img.Height() != ht {
		if err := img.ResizeWithVScale(float64(w)/float64(img.Width()), float64(ht)/float64(img.Height()), vips.KernelLinear); err != nil {
			img.Close()
			return nil, err
		}
	}
	return img, nil
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }

// oneLine keeps the first line of a libvips error, which carries a multi-line
// log of every message since the last error.
func oneLine(err error) string {
	s := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// padColour is what padding shows: Background, else transparent where the
// format has alpha and white where it has not.
func padColour(t Transform, e Encoding) Color {
	switch {
	case t.Background != nil:
		return *t.Background
	case e.Format == JPEG:
		return White
	}
	return Color{}
}

// embed places img at left, top in a w x ht canvas of colour bg.
func embed(img *vips.ImageRef, left, top, w, ht int, bg Color) error {
	if bg.A < 255 && !img.HasAlpha() {
		if err := img.AddAlpha(); err != nil {
			return err
		}
	}
	return img.EmbedBackgroundRGBA(left, top, w, ht, &vips.ColorRGBA{R: bg.R, G: bg.G, B: bg.B, A: bg.A})
}

// paletteDepth is the bits a palette of at most n colours takes: the
// largest power of two not above n (0 for true colour).
func paletteDepth(n int) int {
	switch {
	case n <= 0:
		return 0
	case n < 4:
		return 1
	case n < 16:
		return 2
	case n < 256:
		return 4
	}
	return 8
}
