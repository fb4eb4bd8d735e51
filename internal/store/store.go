// Package store keeps Parley's state: accounts, sessions, sites, routing groups, conversations and their events.
// One implementation serves SQLite (modernc.org/sqlite, the embedded default) and PostgreSQL (pgx), through
// database/sql with the same SQL; the few differences are handled by dialect.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors callers can test with errors.Is. Driver errors never leave this package unwrapped.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: conflict")
	ErrClosed   = errors.New("store: conversation closed")
	ErrDisabled = errors.New("store: account disabled")
)

type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// Store is Parley's database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect dialect
	// writer serializes writes on SQLite, which allows one writer at a time anyway. Waiting here is a queue;
	// waiting in SQLite's busy handler is a sleep-and-retry loop that wastes the lock under contention.
	writer sync.Mutex
	// stmts caches prepared statements by query text (SQLite only); nstmts counts them.
	stmts    sync.Map
	nstmts   atomic.Int64
	maxConns int
}

//go:embed migrations/*.sql
var migrations embed.FS

// Open connects to the database named by url: empty for SQLite in dataDir, "sqlite:///path" for another SQLite
// file, "postgres://..." for PostgreSQL. It does not migrate; call Migrate.
func Open(ctx context.Context, url, dataDir string, maxConns int) (*Store, error) {
	var (
		db  *sql.DB
		err error
		d   dialect
	)
	switch {
	case strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://"):
		d = postgresDialect
		db, err = sql.Open("pgx", url)
	default:
		path := strings.TrimPrefix(url, "sqlite://")
		if url == "" {
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, fmt.Errorf("store: data dir: %w", err)
			}
			path = filepath.Join(dataDir, "parley.db")
		}
		d = sqliteDialect
		// Pragmas go in the DSN so that every pooled connection gets them. _txlock=immediate takes the write
		// lock when a transaction begins, so concurrent writers wait (busy_timeout) instead of failing mid-way.
		db, err = sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)"+
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return &Store{db: db, dialect: d, maxConns: maxConns}, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	return s.db.Close()
}

// Ping reports whether the database answers; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Dialect names the database, "sqlite" or "postgres".
func (s *Store) Dialect() string {
	if s.dialect == postgresDialect {
		return "postgres"
	}
	return "sqlite"
}

// Migrate applies the embedded migrations that have not run yet, each in its own transaction, and returns the
// versions it applied. On PostgreSQL an advisory lock keeps two nodes starting together from racing.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect == postgresDialect {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(72791)"); err != nil {
			return nil, fmt.Errorf("store: migrate lock: %w", err)
		}
		defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(72791)")
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	done := map[int]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		done[v] = true
	}
	rows.Close()

	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var applied []int
	for _, f := range files {
		version, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: bad name", f)
		}
		if done[version] {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("store: migrate: %w", err)
		}
		for _, stmt := range splitStatements(string(body)) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				tx.Rollback()
				return nil, fmt.Errorf("store: migration %s: %w", f, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.rebind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
			version, time.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("store: migration %s: %w", f, err)
		}
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", f, err)
		}
		applied = append(applied, version)
	}
	return applied, nil
}

// splitStatements cuts a migration file at the semicolons that end a line, dropping comment lines.
func splitStatements(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") || trimmed == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// rebind turns the ? placeholders used throughout this package into PostgreSQL's $1, $2, ...
func (s *Store) rebind(q string) string {
	if s.dialect != postgresDialect {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q wraps a querier so every query is rebound for the dialect.
type q struct {
	s  *Store
	db querier
	// last, in a transaction, holds what runs just before it commits (see atEnd).
	last *[]func(q) error
}

// atEnd runs fn at the end of x's transaction, just before it commits, or at once outside one. Updates of rows
// that every transaction of a kind touches (a queue's running averages) go there: a row lock taken at the end is
// held for the commit only, not for the rest of the transaction, so those transactions don't queue on it.
func (x q) atEnd(fn func(q) error) error {
	if x.last == nil {
		return fn(x)
	}
	*x.last = append(*x.last, fn)
	return nil
}

func (x q) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if _, inTx := x.db.(*sql.Tx); !inTx && x.s.dialect == sqliteDialect {
		x.s.writer.Lock()
		defer x.s.writer.Unlock()
	}
	if st := x.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return x.db.ExecContext(ctx, x.s.rebind(query), args...)
}

func (x q) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := x.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return x.db.QueryContext(ctx, x.s.rebind(query), args...)
}

func (x q) row(ctx context.Context, query string, args ...any) *sql.Row {
	if st := x.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return x.db.QueryRowContext(ctx, x.s.rebind(query), args...)
}

// maxPrepared bounds the statement cache: the package's queries are a fixed set, but a few are built with a
// variable number of placeholders.
const maxPrepared = 512

// prepared returns query as a statement prepared once and reused, bound to x's transaction when x is one, or nil
// to run it unprepared. Only SQLite needs this: parsing a statement costs as much as running a small one there,
// while pgx already keeps prepared statements per PostgreSQL connection.
func (x q) prepared(ctx context.Context, query string) *sql.Stmt {
	if x.s.dialect != sqliteDialect {
		return nil
	}
	v, ok := x.s.stmts.Load(query)
	if !ok {
		if x.s.nstmts.Load() >= maxPrepared {
			return nil
		}
		pctx := ctx
		if _, inTx := x.db.(*sql.Tx); inTx {
			if x.s.maxConns < 2 {
				return nil // preparing takes a second connection from the pool, and the transaction holds the only one
			}
			// The transaction holds the write lock: don't wait long for another connection, whose holder may be
			// waiting for that lock.
			var cancel context.CancelFunc
			pctx, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
		}
		st, err := x.s.db.PrepareContext(pctx, query)
		if err != nil {
			return nil // running it unprepared reports the error
		}
		if v, ok = x.s.stmts.LoadOrStore(query, st); ok {
			st.Close() // another caller prepared it first
		} else {
			x.s.nstmts.Add(1)
		}
	}
	st := v.(*sql.Stmt)
	if tx, inTx := x.db.(*sql.Tx); inTx {
		return tx.StmtContext(ctx, st)
	}
	return st
}

func (s *Store) q() q { return q{s: s, db: s.db} }

// scanAll reads every row with scan, then closes rows. err is the query's: a typed wrapper such as scanRequests
// takes a query's two results as they come.
func scanAll[T any](rows *sql.Rows, err error, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// inTx runs fn in a transaction, and runs it again (up to 5 times) when two writers collided: a unique-key race
// between two PostgreSQL transactions, a serialization failure or a deadlock.
func (s *Store) inTx(ctx context.Context, fn func(q) error) error {
	if s.dialect == sqliteDialect {
		s.writer.Lock()
		defer s.writer.Unlock()
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var tx *sql.Tx
		tx, err = s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: begin: %w", err)
		}
		var last []func(q) error
		err = fn(q{s: s, db: tx, last: &last})
		for i := 0; err == nil && i < len(last); i++ {
			err = last[i](q{s: s, db: tx})
		}
		if err == nil {
			err = tx.Commit()
			if err == nil {
				return nil
			}
		} else {
			tx.Rollback()
		}
		if !errors.Is(err, errRetry) && !isRetryable(err) {
			return err
		}
	}
	return fmt.Errorf("store: gave up after retries: %w", err)
}

// errRetry asks inTx to run the transaction again.
var errRetry = errors.New("store: retry")

func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		code := sqErr.Code() & 0xff
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	return false
}

// isUnique reports whether err is a unique-constraint violation, in either database.
func isUnique(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// NewID returns a random id with a readable prefix, e.g. "cv_3kq9...". 100 bits of randomness: unguessable, and
// free of dots, so it is safe in bus subjects.
func NewID(prefix string) string {
	var b [13]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// NewOrderedID returns an id like NewID whose text sorts in creation order (on one clock): it starts with the
// creation time. Queues break ties between equal enqueue times by id, so first come stays first served.
func NewOrderedID(prefix string) string {
	var b [13]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixNano()))
	if _, err := rand.Read(b[8:]); err != nil {
		panic(err)
	}
	return prefix + "_" + strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v) }

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
