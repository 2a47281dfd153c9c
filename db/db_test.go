package db

import (
	"context"
	"path/filepath"
	"testing"
)

func TestMigrateAppliesEachStepOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	steps := []Migration{
		{Name: "create", SQL: "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL);\nINSERT INTO t VALUES ('a', 1)"},
	}
	d, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Migrate(ctx, "test", steps); err != nil {
		t.Fatal(err)
	}
	d.Close()

	// Reopen with a second step: only the new step runs (the insert of step 1 is not repeated).
	steps = append(steps, Migration{Name: "more", SQL: "INSERT INTO t VALUES ('b', 2)"})
	d, err = OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx, "test", steps); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("rows = %d, want 2", n)
	}
}

func TestMigrateFailedStepLeavesNothing(t *testing.T) {
	ctx := context.Background()
	d, err := OpenSQLite(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bad := []Migration{{Name: "bad", SQL: "CREATE TABLE x (a INTEGER);\nTHIS IS NOT SQL"}}
	if err := d.Migrate(ctx, "c", bad); err == nil {
		t.Fatal("want error from a broken migration")
	}
	var n int
	if err := d.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE name = 'x'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("table of a failed migration was kept")
	}
}

func TestRebind(t *testing.T) {
	tests := []struct {
		dialect Dialect
		in, out string
	}{
		{SQLite, "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = ? AND c = ?"},
		{Postgres, "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{Postgres, "SELECT '?' FROM t WHERE b = ?", "SELECT '?' FROM t WHERE b = $1"},
	}
	for _, tc := range tests {
		d := &DB{Dialect: tc.dialect}
		if got := d.Rebind(tc.in); got != tc.out {
			t.Errorf("%s Rebind(%q) = %q, want %q", tc.dialect, tc.in, got, tc.out)
		}
	}
}
