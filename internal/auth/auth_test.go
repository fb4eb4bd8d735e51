package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPasswordHashing(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q", h)
	}
	if !CheckPassword(h, "correct horse") {
		t.Fatal("right password refused")
	}
	for _, wrong := range []string{"", "correct hors", "Correct horse"} {
		if CheckPassword(h, wrong) {
			t.Fatalf("wrong password %q accepted", wrong)
		}
	}
	if CheckPassword("not a hash", "x") || CheckNoAccount("x") {
		t.Fatal("garbage hash matched")
	}
	if _, err := HashPassword("short"); !errors.Is(err, ErrWeakPassword) {
		t.Fatalf("short password: %v", err)
	}
	h2, _ := HashPassword("correct horse")
	if h2 == h {
		t.Fatal("two hashes share a salt")
	}
}

func TestVisitorTokens(t *testing.T) {
	s := NewVisitorSigner([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1_800_000_000, 0)
	tok := s.Issue("v_1", "st_1", now.Add(time.Hour))
	if id, err := s.Verify(tok, "st_1", now); err != nil || id != "v_1" {
		t.Fatalf("valid token: %q %v", id, err)
	}
	cases := map[string]struct {
		token, site string
		at          time.Time
		want        error
	}{
		"expired":          {tok, "st_1", now.Add(time.Hour), ErrTokenExpired},
		"other site":       {tok, "st_2", now, ErrTokenInvalid},
		"tampered payload": {"dl8xfHN0XzF8OTk5OTk5OTk5OQ." + strings.Split(tok, ".")[1], "st_1", now, ErrTokenInvalid},
		"other key":        {NewVisitorSigner([]byte("another key another key another!")).Issue("v_1", "st_1", now.Add(time.Hour)), "st_1", now, ErrTokenInvalid},
		"garbage":          {"not-a-token", "st_1", now, ErrTokenInvalid},
		"empty":            {"", "st_1", now, ErrTokenInvalid},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Verify(c.token, c.site, c.at); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestSessionTokens(t *testing.T) {
	tok, id := NewSessionToken()
	if SessionID(tok) != id || tok == id || len(tok) < 40 {
		t.Fatalf("token %q id %q", tok, id)
	}
}
