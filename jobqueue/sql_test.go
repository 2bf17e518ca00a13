package jobqueue

import (
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/imgorigin/imgorigin/internal/sqldb"
	"github.com/imgorigin/imgorigin/internal/testwait"
)

// queueTable is the table SQLQueue's comment asks its owner to create.
const queueTable = `-- +goose Up
CREATE TABLE jobs (id TEXT PRIMARY KEY, body TEXT NOT NULL, visible_at BIGINT NOT NULL,
	attempts INTEGER NOT NULL, receipt TEXT NOT NULL, dead BOOLEAN NOT NULL);
CREATE INDEX jobs_visible ON jobs (dead, visible_at);
`

type group struct {
	ID string `json:"id"`
}

func (g group) Name() string { return g.ID }

// A job sent twice is queued once; one not acked within its visibility is
// delivered again; a stale receipt acks nothing; a job past its attempts
// is dead-lettered and never delivered again.
func TestQueueRedeliversAndDeadLetters(t *testing.T) {
	db, err := sqldb.SQLite(filepath.Join(t.TempDir(), "q.db"), fstest.MapFS{"00001_queue.sql": {Data: []byte(queueTable)}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := NewSQLQueue[group](db, "jobs", 2)
	ctx := context.Background()
	if err := q.Send(ctx, []group{{ID: "a"}, {ID: "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := q.Send(ctx, []group{{ID: "a"}}); err != nil { // the same group again: still one job
		t.Fatal(err)
	}
	first, err := q.Receive(ctx, 10, 50*time.Millisecond)
	if err != nil || len(first) != 2 {
		t.Fatalf("received %d jobs, %v; want 2", len(first), err)
	}
	if again, _ := q.Receive(ctx, 10, time.Minute); len(again) != 0 {
		t.Fatalf("invisible jobs delivered again: %d", len(again))
	}
	if err := q.Ack(ctx, first[1].Ticket); err != nil { // b is done
		t.Fatal(err)
	}
	var second []Delivery[group]
	testwait.For(t, "a's visibility to run out", func() bool {
		second, _ = q.Receive(ctx, 10, 50*time.Millisecond)
		return len(second) > 0
	})
	if len(second) != 1 || second[0].Job.ID != "a" || second[0].Attempts != 2 {
		t.Fatalf("redelivery: %+v", second)
	}
	if err := q.Ack(ctx, first[0].Ticket); err != nil { // a stale receipt acks nothing
		t.Fatal(err)
	}
	if n, _, _ := q.Counts(ctx); n != 1 {
		t.Fatalf("a stale receipt removed the job (%d left)", n)
	}
	// Once its visibility runs out, a job past its attempts is a dead
	// letter, never delivered again.
	testwait.For(t, "a to become a dead letter", func() bool {
		if third, _ := q.Receive(ctx, 10, time.Minute); len(third) != 0 {
			t.Fatalf("a job past its attempts was delivered: %+v", third)
		}
		_, dead, _ := q.Counts(ctx)
		return dead == 1
	})
}
