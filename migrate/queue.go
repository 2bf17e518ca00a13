package migrate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/imgorigin/imgorigin/jobqueue"
)

// dbQueue is the embedded queue: a table beside the progress store, so a
// machine that dies loses no job. Jobs delivered MaxAttempts times without an
// ack are dead-lettered.
type dbQueue struct {
	s           *State
	maxAttempts int
}

// Queue returns the embedded queue in s.
func (s *State) Queue(maxAttempts int) jobqueue.Queue {
	return &dbQueue{s: s, maxAttempts: maxAttempts}
}

// Send enqueues jobs; a job's id is its group, so sending a group twice
// (a re-run of plan) keeps one job.
func (q *dbQueue) Send(ctx context.Context, jobs []jobqueue.Job) error {
	tx, err := q.s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, q.s.q(`INSERT INTO migrate_queue (id, body, visible_at, attempts, receipt, dead) VALUES (?, ?, 0, 0, '', FALSE)
		ON CONFLICT (id) DO NOTHING`))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, j := range jobs {
		b, _ := json.Marshal(j)
		if _, err := stmt.ExecContext(ctx, j.Name(), string(b)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (q *dbQueue) Receive(ctx context.Context, max int, visibility time.Duration) ([]jobqueue.Delivery, error) {
	tx, err := q.s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	if _, err := tx.ExecContext(ctx, q.s.q(`UPDATE migrate_queue SET dead = TRUE WHERE NOT dead AND visible_at <= ? AND attempts >= ?`), now, q.maxAttempts); err != nil {
		return nil, err
	}
	lock := ""
	if q.s.postgres {
		lock = " FOR UPDATE SKIP LOCKED" // workers on many machines take different jobs
	}
	rows, err := tx.QueryContext(ctx, q.s.q(`SELECT id, body, attempts FROM migrate_queue WHERE NOT dead AND visible_at <= ? ORDER BY visible_at, id LIMIT ?`+lock), now, max)
	if err != nil {
		return nil, err
	}
	var out []jobqueue.Delivery
	for rows.Next() {
		var d jobqueue.Delivery
		var body string
		if err := rows.Scan(&d.ID, &body, &d.Attempts); err != nil {
			rows.Close()
			return nil, err
		}
		if err := json.Unmarshal([]byte(body), &d.Job); err != nil {
			rows.Close()
			return nil, fmt.Errorf("queue: job %s: %w", d.ID, err)
		}
		out = append(out, d)
	}
	rows.Close()
	for i := range out {
		out[i].Receipt = receipt()
		out[i].Attempts++
		if _, err := tx.ExecContext(ctx, q.s.q(`UPDATE migrate_queue SET visible_at = ?, attempts = ?, receipt = ? WHERE id = ?`),
			now+visibility.Milliseconds(), out[i].Attempts, out[i].Receipt, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, tx.Commit()
}

// Extend keeps a job invisible while its worker is still on it.
func (q *dbQueue) Extend(ctx context.Context, d jobqueue.Delivery, visibility time.Duration) error {
	_, err := q.s.db.ExecContext(ctx, q.s.q(`UPDATE migrate_queue SET visible_at = ? WHERE id = ? AND receipt = ?`),
		time.Now().Add(visibility).UnixMilli(), d.ID, d.Receipt)
	return err
}

// Ack removes a finished job. With a stale receipt (the job timed out and went
// to another worker) nothing is removed: that worker's ack counts.
func (q *dbQueue) Ack(ctx context.Context, d jobqueue.Delivery) error {
	_, err := q.s.db.ExecContext(ctx, q.s.q(`DELETE FROM migrate_queue WHERE id = ? AND receipt = ?`), d.ID, d.Receipt)
	return err
}

func receipt() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (q *dbQueue) Counts(ctx context.Context) (pending, dead int, err error) {
	err = q.s.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM migrate_queue WHERE NOT dead),
		(SELECT COUNT(*) FROM migrate_queue WHERE dead)`).Scan(&pending, &dead)
	return pending, dead, err
}
