package jobqueue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/imgorigin/imgorigin/internal/sqldb"
)

// SQLQueue is the queue on one machine: a table in its owner's database
// (SQLite, or PostgreSQL for workers on many machines), so a machine that
// dies loses no job. Jobs delivered MaxAttempts times without an ack are
// dead-lettered. The owner's schema creates the table:
//
//	CREATE TABLE name (id TEXT PRIMARY KEY, body TEXT NOT NULL,
//		visible_at BIGINT NOT NULL, attempts INTEGER NOT NULL,
//		receipt TEXT NOT NULL, dead BOOLEAN NOT NULL);
//	CREATE INDEX name_visible ON name (dead, visible_at);
type SQLQueue[J Job] struct {
	db          sqldb.DB
	table       string
	maxAttempts int
}

// NewSQLQueue returns the queue in db's table (a constant name, never
// user input).
func NewSQLQueue[J Job](db sqldb.DB, table string, maxAttempts int) *SQLQueue[J] {
	return &SQLQueue[J]{db: db, table: table, maxAttempts: maxAttempts}
}

// q names the table in query and, for PostgreSQL, numbers its placeholders.
func (q *SQLQueue[J]) q(query string) string {
	return q.db.Q(strings.ReplaceAll(query, "TABLE", q.table))
}

// Send enqueues jobs; a job's id is its name, so sending one twice while
// the first is queued (a re-run of the migration's plan) keeps one job.
func (q *SQLQueue[J]) Send(ctx context.Context, jobs []J) error {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, q.q(`INSERT INTO TABLE (id, body, visible_at, attempts, receipt, dead) VALUES (?, ?, 0, 0, '', FALSE)
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

// Receive takes up to max visible jobs, hiding them for visibility, after
// dead-lettering those delivered too often.
func (q *SQLQueue[J]) Receive(ctx context.Context, max int, visibility time.Duration) ([]Delivery[J], error) {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	if _, err := tx.ExecContext(ctx, q.q(`UPDATE TABLE SET dead = TRUE WHERE NOT dead AND visible_at <= ? AND attempts >= ?`), now, q.maxAttempts); err != nil {
		return nil, err
	}
	lock := ""
	if q.db.Postgres {
		lock = " FOR UPDATE SKIP LOCKED" // workers on many machines take different jobs
	}
	rows, err := tx.QueryContext(ctx, q.q(`SELECT id, body, attempts FROM TABLE WHERE NOT dead AND visible_at <= ? ORDER BY visible_at, id LIMIT ?`+lock), now, max)
	if err != nil {
		return nil, err
	}
	var out []Delivery[J]
	for rows.Next() {
		var d Delivery[J]
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
		if _, err := tx.ExecContext(ctx, q.q(`UPDATE TABLE SET visible_at = ?, attempts = ?, receipt = ? WHERE id = ?`),
			now+visibility.Milliseconds(), out[i].Attempts, out[i].Receipt, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, tx.Commit()
}

// Extend keeps a job invisible while its worker is still on it.
func (q *SQLQueue[J]) Extend(ctx context.Context, t Ticket, visibility time.Duration) error {
	_, err := q.db.ExecContext(ctx, q.q(`UPDATE TABLE SET visible_at = ? WHERE id = ? AND receipt = ?`),
		time.Now().Add(visibility).UnixMilli(), t.ID, t.Receipt)
	return err
}

// Ack removes a finished job. With a stale receipt (the job timed out and went
// to another worker) nothing is removed: that worker's ack counts.
func (q *SQLQueue[J]) Ack(ctx context.Context, t Ticket) error {
	_, err := q.db.ExecContext(ctx, q.q(`DELETE FROM TABLE WHERE id = ? AND receipt = ?`), t.ID, t.Receipt)
	return err
}

func receipt() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Counts counts the table's live and dead jobs.
func (q *SQLQueue[J]) Counts(ctx context.Context) (pending, dead int, err error) {
	err = q.db.QueryRowContext(ctx, q.q(`SELECT
		(SELECT COUNT(*) FROM TABLE WHERE NOT dead),
		(SELECT COUNT(*) FROM TABLE WHERE dead)`)).Scan(&pending, &dead)
	return pending, dead, err
}
