// Package migrate moves a legacy bucket (originals and the thumbnails made
// from them) to WebP originals: Plan groups its photos into jobs, workers
// convert each group (Worker) and State records the progress. Its database
// schema is versioned by goose (schema/).
package migrate

import "github.com/imgorigin/imgorigin/jobqueue"

// Job is one group's work: its legacy photos and their thumbnails. The
// group also owns the new originals (their keys derive from it).
type Job struct {
	Group  string     `json:"group"`
	Photos []JobPhoto `json:"photos"`
}

// Name names the job in the queue: its group.
func (j Job) Name() string { return j.Group }

// JobPhoto is one legacy original and the thumbnails generated from it.
type JobPhoto struct {
	Original      string   `json:"original"`
	OriginalBytes int64    `json:"original_bytes"`
	Thumbnails    []string `json:"thumbnails"`
	ThumbBytes    int64    `json:"thumbnail_bytes"`
}

// Queue carries migration jobs.
type Queue = jobqueue.Queue[Job]

// Queue returns the embedded queue, a table beside the progress store.
func (s *State) Queue(maxAttempts int) Queue {
	return jobqueue.NewSQLQueue[Job](s.db, "migrate_queue", maxAttempts)
}
