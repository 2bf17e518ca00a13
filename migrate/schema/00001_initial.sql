-- The progress store and the embedded queue as they were before versions:
-- IF NOT EXISTS keeps databases made then, which goose finds at version 0.
-- +goose Up
CREATE TABLE IF NOT EXISTS migrate_groups (
	grp TEXT PRIMARY KEY,
	photos INTEGER NOT NULL,
	state TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS migrate_photos (
	old_key TEXT PRIMARY KEY,
	grp TEXT NOT NULL,
	new_key TEXT NOT NULL,
	width INTEGER NOT NULL,
	height INTEGER NOT NULL,
	old_bytes BIGINT NOT NULL,
	new_bytes BIGINT NOT NULL,
	thumbnails INTEGER NOT NULL,
	thumb_bytes BIGINT NOT NULL,
	original_deleted BOOLEAN NOT NULL,
	state TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS migrate_photos_grp ON migrate_photos (grp);
CREATE TABLE IF NOT EXISTS migrate_queue (
	id TEXT PRIMARY KEY,
	body TEXT NOT NULL,
	visible_at BIGINT NOT NULL,
	attempts INTEGER NOT NULL,
	receipt TEXT NOT NULL,
	dead BOOLEAN NOT NULL
);
CREATE INDEX IF NOT EXISTS migrate_queue_visible ON migrate_queue (dead, visible_at);

-- +goose Down
DROP TABLE migrate_queue;
DROP TABLE migrate_photos;
DROP TABLE migrate_groups;
