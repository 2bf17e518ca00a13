-- The queue of uploads waiting for conversion (jobqueue.SQLQueue's table).
-- +goose Up
CREATE TABLE deferred_uploads (
	id TEXT PRIMARY KEY,
	body TEXT NOT NULL,
	visible_at BIGINT NOT NULL,
	attempts INTEGER NOT NULL,
	receipt TEXT NOT NULL,
	dead BOOLEAN NOT NULL
);
CREATE INDEX deferred_uploads_visible ON deferred_uploads (dead, visible_at);

-- +goose Down
DROP TABLE deferred_uploads;
