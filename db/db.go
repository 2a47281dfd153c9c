// Package db opens sealfleet's SQL store and applies each component's schema migrations. SQLite
// (modernc.org/sqlite, pure Go) is embedded by default; components write portable SQL (standard types, `?`
// placeholders rebound per dialect by Rebind) so PostgreSQL can serve later.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is an open SQL store with its dialect.
type DB struct {
	*sql.DB
	Dialect Dialect
}

// Dialect names the SQL flavour of a DB.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// OpenSQLite opens (creating if needed) an SQLite database file with write-ahead logging, a busy timeout,
// immediate transactions and foreign keys on. path ":memory:" opens a private in-memory database (one connection, so all callers share it).
func OpenSQLite(path string) (*DB, error) {
	dsn := path
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("creating database directory: %w", err)
		}
		dsn = "file:" + path
	}
	// _txlock=immediate: transactions take the write lock at BEGIN (waiting up to busy_timeout). A deferred
	// transaction that reads and then writes fails at once with SQLITE_BUSY when another connection wrote in
	// between (the busy timeout does not apply to that upgrade), which the pipeline and the manager sharing one
	// database hit under load.
	dsn += "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_txlock=immediate"
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite %s: %w", path, err)
	}
	if path == ":memory:" {
		sdb.SetMaxOpenConns(1)
	}
	if err := sdb.Ping(); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("opening sqlite %s: %w", path, err)
	}
	return &DB{DB: sdb, Dialect: SQLite}, nil
}

// Rebind rewrites `?` placeholders for the DB's dialect ($1, $2, … for PostgreSQL). Question marks inside
// quoted strings are not placeholders and are left alone.
func (d *DB) Rebind(query string) string {
	if d.Dialect != Postgres {
		return query
	}
	var b strings.Builder
	n, inQuote := 0, false
	for _, c := range query {
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteRune(c)
		case c == '?' && !inQuote:
			n++
			b.WriteString("$" + strconv.Itoa(n))
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Migration is one schema step of a component; steps are applied in order, each once, in a transaction.
type Migration struct {
	Name string
	SQL  string // one or more statements separated by ";\n"
}

// Migrate applies the component's migrations that have not been applied yet. It is safe to call at every start.
func (d *DB) Migrate(ctx context.Context, component string, steps []Migration) error {
	if component == "" {
		return errors.New("migrate: component name is empty")
	}
	if _, err := d.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,
		PRIMARY KEY (component, version))`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	var applied int
	if err := d.QueryRowContext(ctx, d.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE component = ?`),
		component).Scan(&applied); err != nil {
		return fmt.Errorf("reading %s migrations: %w", component, err)
	}
	for v := applied; v < len(steps); v++ {
		if err := d.applyStep(ctx, component, v, steps[v]); err != nil {
			return err
		}
	}
	return nil
}

func (d *DB) applyStep(ctx context.Context, component string, version int, step Migration) error {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s/%s: %w", component, step.Name, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	for _, stmt := range strings.Split(step.SQL, ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migration %s/%s: %w", component, step.Name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, d.Rebind(`INSERT INTO schema_migrations (component, version, name) VALUES (?, ?, ?)`),
		component, version, step.Name); err != nil {
		return fmt.Errorf("migration %s/%s: recording: %w", component, step.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s/%s: commit: %w", component, step.Name, err)
	}
	return nil
}
