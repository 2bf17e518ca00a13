package resizer

import (
	"context"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests  *prometheus.HistogramVec // by status and cache (hit, miss, none)
	bytesOut  *prometheus.CounterVec   // answers' bytes by format
	stages    *prometheus.HistogramVec // fetch, queue, render
	cacheOps  *prometheus.CounterVec   // cache (original, variant) x result (hit, miss)
	coalesced *prometheus.CounterVec   // what (fetch, render)
	storeErrs prometheus.Counter
	storeGets prometheus.Counter
	// answers made from an original's small copy
	smallCopies prometheus.Counter
	// render time by kind of request (canonical, exotic, signed), and
	// exotic requests refused by budget (original, client)
	renderSeconds  *prometheus.CounterVec
	budgetRefusals *prometheus.CounterVec
	// revalidations of cached keys by what the store said (present, gone, unknown)
	revalidations *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, h *Handler) *metrics {
	buckets := []float64{.001, .002, .005, .01, .02, .03, .05, .075, .1, .15, .25, .5, 1, 2.5, 5, 10}
	m := &metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "imgorigin_resizer_request_duration_seconds",
			Help: "Resizer requests by status and cache: hit (the variant cache answered), miss (rendered, or the original sent), none (no image sent: an error, a 304).", Buckets: buckets}, []string{"status", "cache"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgorigin_resizer_response_bytes_total",
			Help: "Bytes of answers' bodies by format: webp, avif, jpeg, png, gif, json, css, other (error texts)."}, []string{"format"}),
		stages:    prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "imgorigin_resizer_stage_duration_seconds", Help: "Time per stage: fetch (original from store), queue (wait for a render slot), render (decode+resize+encode; libvips fuses them)", Buckets: buckets}, []string{"stage"}),
		cacheOps:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgorigin_resizer_cache_requests_total", Help: "Cache look-ups by cache and result."}, []string{"cache", "result"}),
		coalesced: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgorigin_resizer_coalesced_total", Help: "Requests that shared another request's fetch or render."}, []string{"what"}),
		storeErrs: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgorigin_resizer_store_errors_total", Help: "Store reads that failed (not counting not-found)."}),
		storeGets: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgorigin_resizer_store_gets_total", Help: "Originals (and their small copies) read from the store."}),
		smallCopies: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgorigin_resizer_small_copy_answers_total",
			Help: "Answers made from an original's small copy instead of the original (rendered, or found in the variant cache)."}),
		renderSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgorigin_resizer_render_seconds_total",
			Help: "Render time by kind of request: canonical (unsigned srcset sizes), exotic (other unsigned, budgeted), signed."}, []string{"kind"}),
		budgetRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgorigin_resizer_budget_refusals_total",
			Help: "Exotic unsigned requests refused (429) because their original's or their client's render budget was spent."}, []string{"budget"}),
		revalidations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgorigin_resizer_revalidations_total",
			Help: "HEADs asking whether a cached key's original is still stored, by answer: present, gone (its caches dropped), unknown (the store could not say)."}, []string{"result"}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.requests, m.bytesOut, m.stages, m.cacheOps, m.coalesced, m.storeErrs, m.storeGets, m.smallCopies, m.renderSeconds, m.budgetRefusals, m.revalidations,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "imgorigin_resizer_cache_bytes", Help: "Bytes held by a cache.", ConstLabels: prometheus.Labels{"cache": "original"}}, func() float64 { return float64(h.originals.Bytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "imgorigin_resizer_cache_bytes", Help: "Bytes held by a cache.", ConstLabels: prometheus.Labels{"cache": "variant"}}, func() float64 { return float64(h.variants.Bytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "imgorigin_resizer_queue_depth", Help: "Requests waiting for a render slot."}, func() float64 { return float64(h.pool.Waiting()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "imgorigin_resizer_renders_in_flight", Help: "Renders running now."}, func() float64 { return float64(h.pool.InFlight()) }),
	)
	return m
}

// formatOf names an answer's format by its Content-Type, for bytesOut.
func formatOf(contentType string) string {
	t, _, _ := strings.Cut(contentType, ";")
	switch t {
	case "image/webp", "image/avif", "image/jpeg", "image/png", "image/gif":
		return strings.TrimPrefix(t, "image/")
	case "application/json":
		return "json"
	case "text/css":
		return "css"
	}
	return "other"
}

// cacheKey holds, in a request's context, where its statusWriter keeps how
// the answer was found (the request histogram's cache label): the render
// path below serve has the context, not the writer.
type cacheKey struct{}

// noteCache records for the request histogram how ctx's answer was found.
func noteCache(ctx context.Context, result string) {
	if p, ok := ctx.Value(cacheKey{}).(*string); ok {
		*p = result
	}
}
