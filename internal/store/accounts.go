package store

import (
	"context"
	"fmt"
	"time"
)

// Roles an account can have.
const (
	RoleAgent = "agent"
	RoleAdmin = "admin"
)

// Account is an agent or an admin who logs in to the desk.
type Account struct {
	ID           string
	Email        string
	Name         string
	Role         string
	PasswordHash string
	Disabled     bool
	ChatCapacity int
	// Supervisor lets an agent see the routing statistics of every group.
	Supervisor bool
	// CanEscalate lets an agent invite the visitor of a chat into a video call.
	CanEscalate bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const accountCols = "id, email, name, role, password_hash, disabled, chat_capacity, supervisor, can_escalate, created_at, updated_at"

func scanAccount(sc interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var created, updated int64
	err := sc.Scan(&a.ID, &a.Email, &a.Name, &a.Role, &a.PasswordHash, &a.Disabled, &a.ChatCapacity, &a.Supervisor, &a.CanEscalate, &created, &updated)
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	return a, notFound(err)
}

// CreateAccount stores a new account; a.ID is generated when empty. A taken email is ErrConflict.
func (s *Store) CreateAccount(ctx context.Context, a Account) (Account, error) {
	if a.ID == "" {
		a.ID = NewID("ag")
	}
	now := time.Now()
	a.CreatedAt, a.UpdatedAt = now, now
	_, err := s.q().exec(ctx, "INSERT INTO accounts ("+accountCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		a.ID, a.Email, a.Name, a.Role, a.PasswordHash, a.Disabled, a.ChatCapacity, a.Supervisor, a.CanEscalate, ms(now), ms(now))
	if isUnique(err) {
		return Account{}, fmt.Errorf("email %q: %w", a.Email, ErrConflict)
	}
	if err != nil {
		return Account{}, fmt.Errorf("store: create account: %w", err)
	}
	return a, nil
}

// Account returns the account with this id.
func (s *Store) Account(ctx context.Context, id string) (Account, error) {
	return scanAccount(s.q().row(ctx, "SELECT "+accountCols+" FROM accounts WHERE id = ?", id))
}

// AccountByEmail returns the account with this email.
func (s *Store) AccountByEmail(ctx context.Context, email string) (Account, error) {
	return scanAccount(s.q().row(ctx, "SELECT "+accountCols+" FROM accounts WHERE email = ?", email))
}

// Accounts lists every account by name.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := s.q().query(ctx, "SELECT "+accountCols+" FROM accounts ORDER BY name, id")
	if err != nil {
		return nil, fmt.Errorf("store: accounts: %w", err)
	}
	return scanAll(rows, nil, scanAccount)
}

// UpdateAccount saves a's name, role, password hash, disabled flag and capacity.
func (s *Store) UpdateAccount(ctx context.Context, a Account) (Account, error) {
	a.UpdatedAt = time.Now()
	res, err := s.q().exec(ctx, `UPDATE accounts SET name = ?, role = ?, password_hash = ?, disabled = ?,
		chat_capacity = ?, supervisor = ?, can_escalate = ?, updated_at = ? WHERE id = ?`,
		a.Name, a.Role, a.PasswordHash, a.Disabled, a.ChatCapacity, a.Supervisor, a.CanEscalate, ms(a.UpdatedAt), a.ID)
	if err != nil {
		return Account{}, fmt.Errorf("store: update account: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Account{}, ErrNotFound
	}
	return a, nil
}

// Session is a logged-in browser. ID is the SHA-256 of the cookie's token, so a leaked database row can't be
// replayed as a cookie.
type Session struct {
	ID        string
	AccountID string
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, se Session) error {
	_, err := s.q().exec(ctx, "INSERT INTO sessions (id, account_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
		se.ID, se.AccountID, se.CSRFToken, ms(se.CreatedAt), ms(se.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionAccount returns a session that has not expired at now, with its account. A disabled account is
// ErrDisabled.
func (s *Store) SessionAccount(ctx context.Context, id string, now time.Time) (Session, Account, error) {
	var se Session
	var created, expires int64
	row := s.q().row(ctx, `SELECT s.id, s.account_id, s.csrf_token, s.created_at, s.expires_at, `+
		accountColsA+` FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id = ? AND s.expires_at > ?`, id, ms(now))
	var a Account
	var ac, au int64
	err := row.Scan(&se.ID, &se.AccountID, &se.CSRFToken, &created, &expires,
		&a.ID, &a.Email, &a.Name, &a.Role, &a.PasswordHash, &a.Disabled, &a.ChatCapacity, &a.Supervisor, &a.CanEscalate, &ac, &au)
	if err != nil {
		return Session{}, Account{}, notFound(err)
	}
	se.CreatedAt, se.ExpiresAt = fromMS(created), fromMS(expires)
	a.CreatedAt, a.UpdatedAt = fromMS(ac), fromMS(au)
	if a.Disabled {
		return se, a, ErrDisabled
	}
	return se, a, nil
}

const accountColsA = "a.id, a.email, a.name, a.role, a.password_hash, a.disabled, a.chat_capacity, a.supervisor, a.can_escalate, a.created_at, a.updated_at"

// ExtendSession pushes a session's expiry to expires.
func (s *Store) ExtendSession(ctx context.Context, id string, expires time.Time) error {
	_, err := s.q().exec(ctx, "UPDATE sessions SET expires_at = ? WHERE id = ?", ms(expires), id)
	return err
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.q().exec(ctx, "DELETE FROM sessions WHERE id = ?", id)
	return err
}

// DeleteSessions ends every session of an account except keep (which may be empty).
func (s *Store) DeleteSessions(ctx context.Context, accountID, keep string) error {
	_, err := s.q().exec(ctx, "DELETE FROM sessions WHERE account_id = ? AND id <> ?", accountID, keep)
	return err
}
