package store

import (
	"context"
	"database/sql"
	"net/url"
	"testing"
)

// OpenTestPostgres opens a migrated store in a fresh schema of the PostgreSQL database at dbURL, and drops the
// schema when the test ends, so that test runs never see each other's rows.
func OpenTestPostgres(t testing.TB, dbURL string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, TestPostgresURL(t, dbURL), "", 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPostgresURL makes a fresh schema in the PostgreSQL database at dbURL, dropped when the test ends, and returns
// a URL whose connections use it.
func TestPostgresURL(t testing.TB, dbURL string) string {
	t.Helper()
	ctx := context.Background()
	schema := "t_" + NewID("s")[2:]
	admin, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("postgres at PARLEY_TEST_POSTGRES_URL: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dbURL)
		if err == nil {
			db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	qv := u.Query()
	qv.Set("search_path", schema)
	u.RawQuery = qv.Encode()
	return u.String()
}
