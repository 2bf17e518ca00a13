// Package testwait lets tests wait for a condition, polled under a deadline,
// instead of sleeping for a time that is too long on a fast machine and too
// short on a loaded one.
package testwait

import (
	"testing"
	"time"
)

// Deadline is how long For waits before it fails the test: long enough for
// a loaded CI machine, short enough that a hang is reported, not timed out.
const Deadline = 10 * time.Second

// For polls cond until it is true, failing t once Deadline has passed.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, Deadline, what, cond)
}

// Within is For with a deadline of d.
func Within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			if cond() {
				return
			}
			t.Fatalf("waited %v for %s", d, what)
		}
	}
}
