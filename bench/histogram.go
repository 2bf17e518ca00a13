package bench

import (
	"math/bits"
	"time"
)

// histogram records latencies in fixed memory (about 80 KB however long the
// run), exact below 1 ms and within 0.2 % above: a long soak must not grow
// the load generator, whose memory is counted with the server's.
type histogram struct {
	counts [1024 + 64*512]int64
	n      int64
	max    time.Duration
}

func bucket(us int64) int {
	if us < 1024 {
		return int(max(us, 0))
	}
	e := bits.Len64(uint64(us)) - 10 // us >> e falls in [512, 1024)
	return 1024 + (e-1)*512 + int(us>>e) - 512
}

// lower is the smallest value in bucket i, in microseconds.
func lower(i int) int64 {
	if i < 1024 {
		return int64(i)
	}
	e := (i-1024)/512 + 1
	return int64((i-1024)%512+512) << e
}

func (h *histogram) add(d time.Duration) {
	h.counts[min(bucket(d.Microseconds()), len(h.counts)-1)]++
	h.n++
	h.max = max(h.max, d)
}

// quantile returns the latency below which a fraction q of the values lie.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q * float64(h.n))
	var seen int64
	for i, c := range h.counts {
		if seen += c; seen > rank {
			return time.Duration(lower(i)) * time.Microsecond
		}
	}
	return h.max
}
