package resizer

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// LadderPolicy says what becomes of an unsigned width or height that is not
// a rung of the ladder.
type LadderPolicy string

const (
	// LadderSnap serves the next rung up (the top rung past the top), so any
	// srcset a library builds works and costs at most one render per rung.
	LadderSnap LadderPolicy = "snap"
	// LadderReject answers 400, naming the nearest rung.
	LadderReject LadderPolicy = "reject"
)

// DefaultLadder covers phone and desktop widths at 1x-3x.
var DefaultLadder = []int{16, 32, 48, 64, 96, 128, 160, 200, 240, 320, 400, 480, 640, 750, 828, 960, 1080, 1280, 1440, 1920, 2048}

// onLadder puts an unsigned request's w, h (as asked, before dpr) and dpr on
// the ladder (sorted), so that arbitrary sizes cannot fill the CDN or burn
// our CPU. With LadderSnap the larger side moves to the next rung up and the
// other follows in proportion (w:h kept), and dpr rounds up to a multiple of
// 0.5; with LadderReject both sides must be rungs and dpr such a multiple.
// It returns the query to parse and the size served, for the response
// ("w=320,h=213,dpr=2"; "" when no size was asked). Values that are not
// numbers are left for ParseOptions to refuse.
func onLadder(q url.Values, ladder []int, policy LadderPolicy) (url.Values, string, error) {
	w, wok := side(q, "w")
	h, hok := side(q, "h")
	dpr, dok := decimal(q.Get("dpr"))
	// Not a multiple of 0.5 (what is no number is left for ParseOptions to refuse).
	offDPR := dok && dpr*2 != math.Trunc(dpr*2)
	if policy == LadderReject {
		for _, s := range []struct {
			name string
			n    int
			ok   bool
		}{{"w", w, wok}, {"h", h, hok}} {
			if s.ok && !slices.Contains(ladder, s.n) {
				return nil, "", badf("%s=%d is not an allowed size without a signature; nearest allowed: %d", s.name, s.n, nearest(ladder, s.n))
			}
		}
		if offDPR {
			return nil, "", badf("dpr=%s is not allowed without a signature; use a multiple of 0.5", q.Get("dpr"))
		}
		return q, served(q), nil
	}
	snapSize := (wok || hok) && !slices.Contains(ladder, max(w, h))
	if !snapSize && !offDPR {
		return q, served(q), nil // the common case: nothing to copy
	}
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = v
	}
	if snapSize {
		long := max(w, h)
		f := float64(rungUp(ladder, long)) / float64(long)
		if wok {
			out.Set("w", strconv.Itoa(max(1, int(math.Round(float64(w)*f)))))
		}
		if hok {
			out.Set("h", strconv.Itoa(max(1, int(math.Round(float64(h)*f)))))
		}
	}
	if offDPR {
		out.Set("dpr", strconv.FormatFloat(math.Ceil(dpr*2)/2, 'f', -1, 64))
	}
	return out, served(out), nil
}

// side reads a positive whole w or h.
func side(q url.Values, name string) (int, bool) {
	n, ok := whole(q.Get(name))
	return n, ok && n > 0
}

// served names the size a ladder answer serves, for the Imgorigin-Rung header.
func served(q url.Values) string {
	var parts []string
	for _, k := range []string{"w", "h", "dpr"} {
		if v := q.Get(k); v != "" && (k != "dpr" || len(parts) > 0) {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, ",")
}

// rungUp is the smallest rung at or above n, or the top rung.
func rungUp(ladder []int, n int) int {
	for _, r := range ladder {
		if r >= n {
			return r
		}
	}
	return ladder[len(ladder)-1]
}

func nearest(ladder []int, n int) int {
	best := ladder[0]
	for _, r := range ladder {
		if abs(r-n) < abs(best-n) || abs(r-n) == abs(best-n) && r > best {
			best = r
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
