package migrate

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/imgorigin/imgorigin/internal/sqldb"
)

// Photo states in the progress store.
const (
	StateConverted = "converted" // new original stored and verified; legacy objects may remain
	StateDone      = "done"      // legacy thumbnails (and original, if asked) deleted
)

// PhotoRecord is one legacy photo's migration.
type PhotoRecord struct {
	OldKey      string `json:"old_key"`
	Group       string `json:"group"`
	NewKey      string `json:"new_key"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	OldBytes    int64  `json:"old_bytes"`
	NewBytes    int64  `json:"new_bytes"`
	Thumbnails  int    `json:"thumbnails"`
	ThumbBytes  int64  `json:"thumbnail_bytes"`
	State       string `json:"state"`
	OriginalDel bool   `json:"legacy_original_deleted"`
}

// State is the progress store and, on one machine, the queue: one SQL schema
// on SQLite (embedded) or PostgreSQL.
type State struct {
	db sqldb.DB
}

// schema holds the progress store's versioned SQL migrations, applied by
// goose.
//
//go:embed schema/*.sql
var schema embed.FS

// Open opens the state in PostgreSQL when dbURL is set, else in the
// embedded SQLite file dir/state.db (dir created).
func Open(dbURL, dir string) (*State, error) {
	if dbURL != "" {
		return OpenPostgres(dbURL)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return OpenSQLite(filepath.Join(dir, "state.db"))
}

// OpenSQLite opens (creating) the embedded state in the file at path.
func OpenSQLite(path string) (*State, error) {
	return open(sqldb.SQLite(path, schemaVersions()))
}

// OpenPostgres opens the progress store (and queue tables) in PostgreSQL, for
// runs on many machines: postgres://user@host:port/db?sslmode=...
func OpenPostgres(dsn string) (*State, error) {
	return open(sqldb.Postgres(dsn, schemaVersions()))
}

func open(db sqldb.DB, err error) (*State, error) {
	if err != nil {
		return nil, fmt.Errorf("migrate state: %w", err)
	}
	return &State{db: db}, nil
}

func schemaVersions() fs.FS {
	fsys, _ := fs.Sub(schema, "schema") // a constant path in the embedded FS
	return fsys
}

// Close closes the database.
func (s *State) Close() error { return s.db.Close() }

// q numbers the placeholders of query for PostgreSQL.
func (s *State) q(query string) string { return s.db.Q(query) }

// GroupDone reports whether a group finished.
func (s *State) GroupDone(ctx context.Context, group string) (bool, error) {
	var state string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT state FROM migrate_groups WHERE grp = ?`), group).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return state == StateDone, err
}

// SetGroup records a group's state ("planned" or "done").
func (s *State) SetGroup(ctx context.Context, group string, photos int, state string) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO migrate_groups (grp, photos, state, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (grp) DO UPDATE SET photos = excluded.photos, state = excluded.state, updated_at = excluded.updated_at`),
		group, photos, state, time.Now().Unix())
	return err
}

// photoColumns are read by Photo and EachPhoto, in scanPhoto's order.
const photoColumns = `old_key, grp, new_key, width, height, old_bytes, new_bytes, thumbnails, thumb_bytes, original_deleted, state`

func scanPhoto(row interface{ Scan(...any) error }) (PhotoRecord, error) {
	var r PhotoRecord
	err := row.Scan(&r.OldKey, &r.Group, &r.NewKey, &r.Width, &r.Height, &r.OldBytes, &r.NewBytes, &r.Thumbnails, &r.ThumbBytes, &r.OriginalDel, &r.State)
	return r, err
}

// Photo returns the record of a legacy original, if any.
func (s *State) Photo(ctx context.Context, oldKey string) (PhotoRecord, bool, error) {
	r, err := scanPhoto(s.db.QueryRowContext(ctx, s.q(`SELECT `+photoColumns+` FROM migrate_photos WHERE old_key = ?`), oldKey))
	if errors.Is(err, sql.ErrNoRows) {
		return PhotoRecord{}, false, nil
	}
	return r, err == nil, err
}

// PutPhoto records (or replaces) a photo's record.
func (s *State) PutPhoto(ctx context.Context, r PhotoRecord) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO migrate_photos
		(old_key, grp, new_key, width, height, old_bytes, new_bytes, thumbnails, thumb_bytes, original_deleted, state, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (old_key) DO UPDATE SET grp = excluded.grp, new_key = excluded.new_key, width = excluded.width,
			height = excluded.height, old_bytes = excluded.old_bytes, new_bytes = excluded.new_bytes,
			thumbnails = excluded.thumbnails, thumb_bytes = excluded.thumb_bytes,
			original_deleted = excluded.original_deleted, state = excluded.state, updated_at = excluded.updated_at`),
		r.OldKey, r.Group, r.NewKey, r.Width, r.Height, r.OldBytes, r.NewBytes, r.Thumbnails, r.ThumbBytes, r.OriginalDel, r.State, time.Now().Unix())
	return err
}

// Stats is what `migrate status` and `migrate report` print.
type Stats struct {
	Groups, GroupsDone      int
	Photos, Converted, Done int
	OldObjects, NewObjects  int64
	OldBytes, NewBytes      int64
	LegacyOriginalsKept     int64
	LegacyOriginalBytesKept int64
	FirstUpdate, LastUpdate time.Time
}

// Stats sums the progress store (the queue counts its own jobs: jobqueue.Queue.Counts).
func (s *State) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	var first, last sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT
		(SELECT COUNT(*) FROM migrate_groups),
		(SELECT COUNT(*) FROM migrate_groups WHERE state = 'done'),
		(SELECT CAST(COALESCE(SUM(photos), 0) AS BIGINT) FROM migrate_groups),
		(SELECT COUNT(*) FROM migrate_photos WHERE state = 'converted'),
		(SELECT COUNT(*) FROM migrate_photos WHERE state = 'done'),
		(SELECT CAST(COALESCE(SUM(1 + thumbnails), 0) AS BIGINT) FROM migrate_photos WHERE state = 'done'),
		(SELECT CAST(COALESCE(SUM(old_bytes + thumb_bytes), 0) AS BIGINT) FROM migrate_photos WHERE state = 'done'),
		(SELECT CAST(COALESCE(SUM(new_bytes), 0) AS BIGINT) FROM migrate_photos WHERE state = 'done'),
		(SELECT COUNT(*) FROM migrate_photos WHERE state = 'done' AND NOT original_deleted),
		(SELECT CAST(COALESCE(SUM(old_bytes), 0) AS BIGINT) FROM migrate_photos WHERE state = 'done' AND NOT original_deleted),
		(SELECT MIN(updated_at) FROM migrate_photos),
		(SELECT MAX(updated_at) FROM migrate_photos)`)).
		Scan(&st.Groups, &st.GroupsDone, &st.Photos, &st.Converted, &st.Done,
			&st.OldObjects, &st.OldBytes, &st.NewBytes, &st.LegacyOriginalsKept, &st.LegacyOriginalBytesKept, &first, &last)
	if err != nil {
		return st, err
	}
	st.NewObjects = int64(st.Done) + st.LegacyOriginalsKept
	st.NewBytes += st.LegacyOriginalBytesKept
	if first.Valid {
		st.FirstUpdate, st.LastUpdate = time.Unix(first.Int64, 0), time.Unix(last.Int64, 0)
	}
	return st, nil
}

// EachPhoto calls f for every finished photo, in old-key order: the old ->
// new mapping the app's database is updated from.
func (s *State) EachPhoto(ctx context.Context, f func(PhotoRecord) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+photoColumns+` FROM migrate_photos WHERE state = 'done' ORDER BY old_key`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanPhoto(rows)
		if err != nil {
			return err
		}
		if err := f(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
