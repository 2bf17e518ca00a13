package deferred

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"

	"github.com/imgorigin/imgorigin/jobqueue"
)

// importEarlier moves into q the uploads that versions before this package
// queued in the migration's database (the file at path, table
// migrate_queue, each job a one-photo group), then renames the file
// PATH.imported so that it is read once. Dead-lettered ones come too, with
// fresh attempts: their raw bytes still wait.
func importEarlier(q *jobqueue.SQLQueue[Upload], path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	uploads, err := earlierUploads(db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := q.Send(context.Background(), uploads); err != nil {
		return err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return os.Rename(path, path+".imported")
}

func earlierUploads(db *sql.DB) ([]Upload, error) {
	rows, err := db.Query(`SELECT body FROM migrate_queue`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var uploads []Upload
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var job struct {
			Subject string `json:"subject"`
			Photos  []struct {
				Original      string `json:"original"`
				OriginalBytes int64  `json:"original_bytes"`
			} `json:"photos"`
		}
		if err := json.Unmarshal([]byte(body), &job); err != nil {
			return nil, err
		}
		for _, p := range job.Photos {
			uploads = append(uploads, Upload{Key: p.Original, Subject: job.Subject, Bytes: p.OriginalBytes})
		}
	}
	return uploads, rows.Err()
}
