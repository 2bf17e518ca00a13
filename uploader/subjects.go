package uploader

import "sync"

// subjectLimiter bounds the uploads in progress per subject: one token, or
// one user with many, cannot take every conversion and memory slot.
type subjectLimiter struct {
	mu       sync.Mutex
	inFlight map[string]int
	max      int
}

func (l *subjectLimiter) acquire(subject string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight[subject] >= l.max {
		return false
	}
	l.inFlight[subject]++
	return true
}

func (l *subjectLimiter) release(subject string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight[subject]--; l.inFlight[subject] <= 0 {
		delete(l.inFlight, subject)
	}
}
