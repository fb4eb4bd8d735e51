package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Visitor token errors.
var (
	ErrTokenInvalid = errors.New("auth: visitor token is invalid")
	ErrTokenExpired = errors.New("auth: visitor token has expired")
)

// VisitorSigner issues and checks the tokens that identify anonymous visitors. A token names the visitor, the site
// and an expiry, signed with HMAC-SHA256; the widget keeps it in its iframe's storage.
type VisitorSigner struct {
	key []byte
}

// NewVisitorSigner returns a signer using key, which must be secret and at least 32 bytes.
func NewVisitorSigner(key []byte) *VisitorSigner { return &VisitorSigner{key: key} }

// Issue returns a token for the visitor on the site, valid until expires.
func (s *VisitorSigner) Issue(visitorID, siteID string, expires time.Time) string {
	payload := visitorID + "|" + siteID + "|" + strconv.FormatInt(expires.Unix(), 10)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(s.sign(payload))
}

func (s *VisitorSigner) sign(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Verify checks a token for the site at now and returns its visitor id. A forged token, or one for another site, is
// ErrTokenInvalid; a genuine one past its expiry is ErrTokenExpired.
func (s *VisitorSigner) Verify(token, siteID string, now time.Time) (string, error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", ErrTokenInvalid
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.sign(string(payload))) {
		return "", ErrTokenInvalid
	}
	fields := strings.Split(string(payload), "|")
	if len(fields) != 3 || fields[0] == "" || fields[1] != siteID {
		return "", ErrTokenInvalid
	}
	exp, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil {
		return "", ErrTokenInvalid
	}
	if now.Unix() >= exp {
		return fields[0], ErrTokenExpired
	}
	return fields[0], nil
}
