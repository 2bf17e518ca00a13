package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramQuantilesMatchSorting(t *testing.T) {
	var h histogram
	var all []time.Duration
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		d := time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond))
		h.add(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := all[int(q*float64(len(all)))]
		got := h.quantile(q)
		if diff := float64(got-exact) / float64(exact); diff > 0.003 || diff < -0.003 {
			t.Errorf("q%.3f: %v, exact %v", q, got, exact)
		}
	}
	if h.max != all[len(all)-1] || h.n != int64(len(all)) {
		t.Errorf("max %v / n %d", h.max, h.n)
	}
	for _, us := range []int64{0, 1, 1023, 1024, 1500, 1 << 20, 60_000_000} {
		if b := bucket(us); lower(b) > us || us-lower(b) > us/400+1 {
			t.Errorf("bucket(%d) = %d, lower %d", us, b, lower(b))
		}
	}
}
