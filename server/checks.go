package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Check is a dependency readiness depends on, such as the store.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
	// Informational checks only set their imgorigin_dependency_up gauge:
	// readiness does not depend on them (a far region's store).
	Informational bool
}

// checks runs every Check in the background and keeps the verdict /readyz
// reads, so a probe costs nothing and an unreachable store takes the
// instance out of rotation instead of failing requests slowly. A check that
// has never succeeded is failing (a new instance proves its store first);
// one that has fails after Config.ReadyFailures errors in a row, and
// recovers on its next success.
type checks struct {
	list     []Check
	interval time.Duration
	timeout  time.Duration
	failures int
	up       *prometheus.GaugeVec

	mu     sync.Mutex
	state  map[string]*checkState
	reason string // why not ready; "" when every check passes
}

type checkState struct {
	succeeded bool
	failures  int
	lastErr   error
}

func newChecks(cfg Config, reg prometheus.Registerer) *checks {
	c := &checks{interval: cfg.ReadyInterval, timeout: cfg.ReadyTimeout, failures: cfg.ReadyFailures, state: map[string]*checkState{},
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "imgorigin_dependency_up", Help: "1 while a dependency readiness checks (the store) counts as answering."}, []string{"check"})}
	reg.MustRegister(c.up)
	return c
}

func (c *checks) add(ch Check) {
	c.list = append(c.list, ch)
	c.state[ch.Name] = &checkState{}
	c.up.WithLabelValues(ch.Name).Set(0)
	if !ch.Informational && c.reason == "" {
		c.reason = ch.Name + ": not checked yet"
	}
}

// run checks at once, then every interval until ctx is done.
func (c *checks) run(ctx context.Context) {
	c.runOnce(ctx)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.runOnce(ctx)
		}
	}
}

func (c *checks) runOnce(ctx context.Context) {
	for _, ch := range c.list {
		pctx, cancel := context.WithTimeout(ctx, c.timeout)
		err := ch.Probe(pctx)
		cancel()
		c.record(ch.Name, err)
	}
}

func (c *checks) record(name string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state[name]
	if err == nil {
		st.succeeded, st.failures, st.lastErr = true, 0, nil
	} else {
		st.failures++
		st.lastErr = err
	}
	c.reason = ""
	for _, ch := range c.list {
		s := c.state[ch.Name]
		if s.succeeded && s.failures < c.failures {
			c.up.WithLabelValues(ch.Name).Set(1)
			continue
		}
		c.up.WithLabelValues(ch.Name).Set(0)
		if c.reason == "" && !ch.Informational {
			c.reason = fmt.Sprintf("%s: %v", ch.Name, s.lastErr)
		}
	}
}

// notReady says why the instance is not ready, or "".
func (c *checks) notReady() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}
