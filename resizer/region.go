package resizer

import (
	"math"
	"strconv"
	"strings"

	"github.com/imgorigin/imgorigin/imaging"
)

// measure is one of rect's four values: pixels, a fraction of the side
// (with a point), or, for the position, where the rectangle sits (0 left
// or top, 0.5 centre, 1 right or bottom).
type measure struct {
	v    float64
	kind byte // 'p' pixels, 'f' fraction, 'a' alignment
}

// RectSpec is rect as asked: x, y, width, height.
type RectSpec [4]measure

// parseRect reads imgix's rect=x,y,w,h.
func parseRect(v string) (*RectSpec, error) {
	bad := badf("rect must be x,y,w,h: each pixels or a fraction with a point (0.5), x also left, center or right, y top, middle or bottom; not %q", v)
	parts := strings.Split(v, ",")
	if len(parts) != 4 {
		return nil, bad
	}
	var r RectSpec
	aligns := [2]map[string]float64{{"left": 0, "center": 0.5, "right": 1}, {"top": 0, "middle": 0.5, "bottom": 1}}
	for i, p := range parts {
		if i < 2 {
			if a, ok := aligns[i][p]; ok {
				r[i] = measure{a, 'a'}
				continue
			}
		}
		if n, ok := whole(p); ok && (i < 2 || n > 0) {
			r[i] = measure{float64(n), 'p'}
			continue
		}
		f, ok := decimal(p)
		if !ok || !strings.Contains(p, ".") || f > 1 || (i >= 2 && f == 0) {
			return nil, bad
		}
		r[i] = measure{f, 'f'}
	}
	return &r, nil
}

func (r RectSpec) String() string {
	names := [2][]string{{"left", "center", "right"}, {"top", "middle", "bottom"}}
	parts := make([]string, 4)
	for i, m := range r {
		switch m.kind {
		case 'a':
			parts[i] = names[i][int(m.v*2)]
		case 'f':
			parts[i] = strconv.FormatFloat(m.v, 'f', -1, 64)
			if !strings.Contains(parts[i], ".") {
				parts[i] += ".0"
			}
		default:
			parts[i] = strconv.Itoa(int(m.v))
		}
	}
	return strings.Join(parts, ",")
}

// region resolves r on an image of sw x sh, clipped to it.
func (r RectSpec) region(sw, sh int) imaging.Region {
	size := func(m measure, side int) int {
		if m.kind == 'f' {
			return int(math.Round(m.v * float64(side)))
		}
		return int(m.v)
	}
	w, h := clamp(size(r[2], sw), 1, sw), clamp(size(r[3], sh), 1, sh)
	pos := func(m measure, side, extent int) int {
		if m.kind == 'a' {
			return int(math.Round(m.v * float64(side-extent)))
		}
		return size(m, side)
	}
	x, y := clamp(pos(r[0], sw, w), 0, sw-1), clamp(pos(r[1], sh, h), 0, sh-1)
	return imaging.Region{Left: x, Top: y, Width: min(w, sw-x), Height: min(h, sh-y)}
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }

// parseLength reads a length imgix gives in pixels or as a fraction (with
// a point) of a side.
func parseLength(name, v string) (measure, error) {
	if n, ok := whole(v); ok && n <= 8192 {
		return measure{float64(n), 'p'}, nil
	}
	if f, ok := decimal(v); ok && strings.Contains(v, ".") && f <= 1 {
		return measure{f, 'f'}, nil
	}
	return measure{}, badf("%s must be pixels (up to 8192) or a fraction with a point (such as 0.5), not %q", name, v)
}

// of is m in pixels of a side of length side.
func (m measure) of(side int) float64 {
	if m.kind == 'f' {
		return m.v * float64(side)
	}
	return m.v
}

func (m measure) String() string {
	if m.kind == 'f' {
		s := strconv.FormatFloat(m.v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	return strconv.Itoa(int(m.v))
}

// parsePair reads two values separated by a comma.
func parsePair[T any](name, v string, one func(name, v string) (T, error)) (*[2]T, error) {
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return nil, badf("%s must be two values separated by a comma, not %q", name, v)
	}
	x, err := one(name, a)
	if err != nil {
		return nil, err
	}
	y, err := one(name, b)
	if err != nil {
		return nil, err
	}
	return &[2]T{x, y}, nil
}
