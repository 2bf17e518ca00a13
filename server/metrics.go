package server

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgorigin/imgorigin/internal/httperr"
)

// Registry is a process's Prometheus registry. It remembers what each
// collector registered on it describes, so that the list of series in
// docs/metrics.md can be checked against what a process exports, series
// without a sample yet included.
type Registry struct {
	*prometheus.Registry
	mu     sync.Mutex
	series []Series
}

// Series is one exported series: its name and its labels.
type Series struct {
	Name   string
	Labels []string
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry { return &Registry{Registry: prometheus.NewRegistry()} }

// Register registers c and remembers its series.
func (r *Registry) Register(c prometheus.Collector) error {
	if err := r.Registry.Register(c); err != nil {
		return err
	}
	descs := make(chan *prometheus.Desc)
	go func() { c.Describe(descs); close(descs) }()
	r.mu.Lock()
	defer r.mu.Unlock()
	for d := range descs {
		r.series = append(r.series, describe(d))
	}
	return nil
}

// MustRegister registers cs, panicking on the first that cannot be.
func (r *Registry) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// Series lists what was registered, by name.
func (r *Registry) Series() []Series {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.series)
	slices.SortFunc(out, func(a, b Series) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// descParts reads a Desc's name and labels from its String: client_golang
// keeps them unexported.
var descParts = regexp.MustCompile(`fqName: "([^"]*)".*constLabels: \{([^}]*)\}, variableLabels: \{([^}]*)\}`)

func describe(d *prometheus.Desc) Series {
	m := descParts.FindStringSubmatch(d.String())
	if m == nil {
		return Series{Name: d.String()}
	}
	s := Series{Name: m[1]}
	for _, kv := range strings.Split(m[2], ",") {
		if name, _, ok := strings.Cut(kv, "="); ok {
			s.Labels = append(s.Labels, name)
		}
	}
	for _, l := range strings.Split(m[3], ",") {
		if l != "" {
			s.Labels = append(s.Labels, strings.TrimSuffix(strings.TrimPrefix(l, "c("), ")"))
		}
	}
	slices.Sort(s.Labels)
	return s
}

// errorAnswers counts WriteError's answers, in every registry of the
// process (one a server).
var errorAnswers = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgorigin_error_answers_total",
	Help: "Error answers by component (resizer, uploader, server: the listener's own), status and reason (what caused it, else the status)."},
	[]string{"component", "status", "reason"})

func countError(component string, e *httperr.Error) {
	errorAnswers.WithLabelValues(cmp.Or(component, "server"), strconv.Itoa(e.Status), e.Reason()).Inc()
}
