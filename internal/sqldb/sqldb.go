// Package sqldb opens the databases imgorigin keeps its own records in (the
// migration's progress, the deferred uploads' queue): SQLite on one
// machine, PostgreSQL on many, each schema versioned by goose.
package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL, for runs on many machines
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // the embedded database
)

// DB is an open database and its dialect.
type DB struct {
	*sql.DB
	Postgres bool
}

// SQLite opens (creating) the file at path and applies schema.
func SQLite(path string, schema fs.FS) (DB, error) {
	// WAL and a busy timeout let several local processes share the file.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return DB{}, err
	}
	db.SetMaxOpenConns(1) // SQLite writes one at a time; one connection avoids SQLITE_BUSY storms
	return upgrade(DB{DB: db}, schema)
}

// Postgres connects to postgres://user@host:port/db?sslmode=... and
// applies schema.
func Postgres(dsn string, schema fs.FS) (DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return DB{}, err
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return DB{}, fmt.Errorf("postgres: %w", err)
	}
	return upgrade(DB{DB: db, Postgres: true}, schema)
}

// upgrade applies the schema versions (goose's NNNNN_name.sql files, each
// once, in order; the version table is goose_db_version) that db lacks. On
// PostgreSQL an advisory lock keeps processes starting together from
// applying one version twice.
func upgrade(db DB, schema fs.FS) (DB, error) {
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			db.Close()
			return DB{}, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.DB, schema, opts...)
	if err == nil {
		_, err = p.Up(context.Background())
	}
	if err != nil {
		db.Close()
		return DB{}, fmt.Errorf("schema: %w", err)
	}
	return db, nil
}

// Q rewrites a query's ? placeholders as $1, $2... for PostgreSQL.
func (db DB) Q(query string) string {
	if !db.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
