// Package webhook posts signed webhooks to external bots, asynchronously, with a timeout and a bounded number of
// retries, and holds the signature check those bots run (docs/api.md, "HTTP bots").
//
// A webhook's signature is HMAC-SHA256, keyed with the bot's webhook secret, of the timestamp header's value, a
// dot, and the raw body. Signing the timestamp with the body means a captured webhook can't be replayed later with a
// fresh timestamp: a receiver refuses any whose timestamp is too far from its own clock.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook.
const (
	// SignatureHeader carries "sha256=" and the signature in hex.
	SignatureHeader = "X-Parley-Signature"
	// TimestampHeader carries the time of the attempt, in seconds since the Unix epoch.
	TimestampHeader = "X-Parley-Timestamp"
	// DeliveryHeader carries the delivery's id, the same on every attempt, so a receiver can drop repeats.
	DeliveryHeader = "X-Parley-Delivery"
)

// DefaultTolerance is how far a webhook's timestamp may be from the receiver's clock.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrBadSignature = errors.New("webhook: the signature does not match")
	ErrStale        = errors.New("webhook: the timestamp is missing or too far from now")
)

// Sign returns the X-Parley-Signature value of body sent at timestamp (Unix seconds).
func Sign(secret string, timestamp int64, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, strconv.FormatInt(timestamp, 10), body))
}

func mac(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a webhook as its receiver should: the signature matches the timestamp and body under secret, and
// the timestamp is within tolerance of now (either way). It compares in constant time.
func Verify(secret, signature, timestamp string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStale
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	hexSig, ok := strings.CutPrefix(signature, "sha256=")
	if !ok {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || !hmac.Equal(got, mac(secret, timestamp, body)) {
		return ErrBadSignature
	}
	return nil
}

// VerifyRequest reads a webhook request's body (at most 1 MiB) and verifies it with Verify. It returns the body.
func VerifyRequest(r *http.Request, secret string, now time.Time) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if err := Verify(secret, r.Header.Get(SignatureHeader), r.Header.Get(TimestampHeader), body, now, DefaultTolerance); err != nil {
		return nil, err
	}
	return body, nil
}
