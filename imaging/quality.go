package imaging

// qualityPoints map q, on WebP's scale, to the quality to give a format's
// encoder for about the same look: the same mean butteraugli distance over
// six corpus photos at 320, 640 and 1080 px (bench/results/quality-map.md).
// Between points q is interpolated linearly.
var qualityPoints = map[Format][][2]int{
	AVIF: {{1, 1}, {50, 48}, {60, 52}, {70, 55}, {75, 57}, {80, 62}, {85, 75}, {90, 82}, {100, 100}},
	JPEG: {{1, 1}, {50, 35}, {60, 45}, {70, 60}, {75, 64}, {80, 75}, {85, 81}, {90, 87}, {100, 100}},
}

// EncoderQuality is the quality to give f's encoder for q on WebP's scale,
// so that one q means about the same perceived quality in every format
// (WebP and PNG: q itself), for an output whose long edge is longEdge.
//
// AVIF's offset per size class (up to 400 px, up to 800 px, above) was
// chosen so that, on six corpus photos' srcset at 320, 640 and 1080 px,
// AVIF is no further from the lossless answer than WebP in any class (at
// most +0.05 butteraugli) for at most 0.75x WebP's bytes in all: +2, +3
// and +1 give -0.11, -0.01 and -0.03 for 0.96x, 0.94x and 0.63x, 0.74x in
// all (bench/results/views.md, which lists the offsets tried). With the
// small copies made at effort 0, +2/+1/+3 had left 401-800 px at +0.10.
// libaom quantises in steps of about 1.6 of this quality, so smaller
// changes can change nothing (+2 at 401-800 px gave what +1 did). The ends,
// 1 and 100, stay where they are.
func EncoderQuality(f Format, q, longEdge int) int {
	q = min(max(q, 1), 100)
	pts, ok := qualityPoints[f]
	if !ok {
		return q
	}
	eq := q
	for i := 1; i < len(pts); i++ {
		if a, b := pts[i-1], pts[i]; q <= b[0] {
			eq = a[1] + ((q-a[0])*(b[1]-a[1])+(b[0]-a[0])/2)/(b[0]-a[0])
			break
		}
	}
	if f == AVIF && q > 1 && q < 100 {
		switch {
		case longEdge <= 400:
			eq += 2
		case longEdge <= 800:
			eq += 3
		default:
			eq++
		}
	}
	return min(max(eq, 1), 100)
}

// Effort trades encode time for bytes per format and output box (w x h; a
// side 0 is taken as the other), tuned by
// `imgorigin bench` on 2 cores (see bench/results).
func Effort(f Format, w, h int) int {
	if w == 0 { // a missing side is bounded by the other at most
		w = h
	}
	if h == 0 {
		h = w
	}
	px := w * h
	switch f {
	case WebP:
		// Measured with `imgorigin bench --scenario cold` on the shared corpus
		// (2 cores): at 320 px effort 2 against 4 is 25.3 against 30.2 ms p50
		// for 3.4 % more bytes; at 1080 px effort 0 against 2 saves ~10 ms for
		// 1.5 % more bytes. Effort 3-4 is not worth its time at any size here.
		if px <= 640*640 {
			return 2
		}
		return 0
	case AVIF:
		// Effort 0 (libaom's fastest). Measured here at 1080 px, q62, three
		// photos (vips heifsave): effort 0 took 83-109 ms for 17-83 KB, effort 2 149-313 ms
		// for 6-12 % fewer bytes, effort 4 0.4-1.7 s for 13-17 % fewer. At
		// effort 0 a render costs what WebP's does at 320 px and about 1.3x
		// its CPU at 1080 px (bench cold-1080-browser against cold-1080).
		// At 320 and 640 px, effort 1-3 saved 10-25 % of the bytes for 2-4x
		// the render time (bench --scenario views, bench/results/views.md).
		return 0
	case PNG:
		return 4
	}
	return 0
}
