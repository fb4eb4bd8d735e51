// Package bus carries notifications between connections and between Parley nodes.
//
// A notification says that something happened ("visitor v_abc123 sent a message"); it never carries state that
// exists nowhere else. State lives in the database, and a subscriber that misses a notification (because of a
// disconnect, a slow handler or a restart) recovers by reading the store. That is why delivery is at most once and
// why no implementation persists or retries messages.
//
// Two implementations exist: [Memory], the in-process default for a single node, and [NATS], which connects several
// nodes through a NATS server. Both pass the same conformance suite.
package bus

import (
	"context"
	"errors"
	"fmt"
)

// Bus notifies other connections and other Parley nodes that something happened. It is never the source of truth:
// state lives in the database, and a subscriber that misses a notification must be able to recover from the store.
//
// All methods are safe for concurrent use.
type Bus interface {
	// Publish sends data to every current subscriber of subject, on this node and on others. Delivery is at most
	// once. Messages from one publisher on one subject reach each subscriber in publish order.
	//
	// Publish does not keep data after it returns, so the caller may reuse the slice. It returns ErrBadSubject for
	// an invalid subject, ErrClosed after Close, and ctx's error if ctx is already done. A nil error means the
	// message was handed on, not that anyone received it.
	Publish(ctx context.Context, subject string, data []byte) error

	// Subscribe calls fn for every message published on subject (exact match, no wildcards) until the subscription
	// ends. fn is called from a bus goroutine, one message at a time per subscription, and must not block: it
	// should hand the message off (for example to a buffered channel) and return. fn may call Publish, Subscribe
	// and Unsubscribe.
	//
	// The data passed to fn is the handler's to keep, but it may be shared with other subscribers of the same
	// message, so fn must not modify it.
	//
	// When Subscribe returns, the subscription is in place: a message published afterwards, from any node, reaches
	// it (barring the loss that at-most-once delivery allows). It returns ErrBadSubject for an invalid subject and
	// ErrClosed after Close.
	Subscribe(subject string, fn Handler) (Subscription, error)

	// Close ends every subscription made through this Bus and releases its resources. After Close, Publish and
	// Subscribe return ErrClosed. Calling Close again returns nil.
	Close() error
}

// Handler receives one message. See [Bus.Subscribe] for the rules it must follow.
type Handler func(subject string, data []byte)

// Subscription is a live subscription returned by [Bus.Subscribe].
type Subscription interface {
	// Unsubscribe ends the subscription. Once it returns, no new call to the handler starts; a call that was
	// already under way may still finish (Unsubscribe may be called from inside the handler itself). It is safe to
	// call more than once and after the Bus is closed; such calls return nil.
	Unsubscribe() error
}

var (
	// ErrClosed is returned by Publish and Subscribe after the Bus has been closed.
	ErrClosed = errors.New("bus: closed")
	// ErrBadSubject is returned for a subject that is not a dot-separated list of non-empty tokens free of
	// wildcards, whitespace and control characters, or that is longer than MaxSubjectLen.
	ErrBadSubject = errors.New("bus: bad subject")
)

// MaxSubjectLen is the longest subject accepted, in bytes. The NATS protocol puts the subject in a control line
// whose length the server caps (4 KiB by default) and it drops the connection of a client that exceeds it; the
// limit keeps a malformed ID from disconnecting a whole node. Real subjects (`visitor.v_abc123`) are far shorter.
const MaxSubjectLen = 256

// errNilHandler is returned by Subscribe when fn is nil: a programming error, so it has no exported sentinel.
var errNilHandler = errors.New("bus: nil handler")

// validateSubject returns an error wrapping ErrBadSubject unless subject is a dot-separated list of non-empty
// tokens. Wildcards (`*`, `>`) are rejected because subscriptions match exactly, and whitespace and control
// characters because they delimit fields in the NATS wire protocol.
func validateSubject(subject string) error {
	if subject == "" {
		return fmt.Errorf("%w: empty", ErrBadSubject)
	}
	if len(subject) > MaxSubjectLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrBadSubject, MaxSubjectLen)
	}
	tokenStart := true // at the start of the subject or just after a dot
	for i := 0; i < len(subject); i++ {
		c := subject[i]
		switch {
		case c == '.':
			if tokenStart {
				return fmt.Errorf("%w: empty token in %q", ErrBadSubject, subject)
			}
			tokenStart = true
			continue
		case c == '*' || c == '>':
			return fmt.Errorf("%w: wildcard in %q", ErrBadSubject, subject)
		case c <= ' ' || c == 0x7f:
			return fmt.Errorf("%w: whitespace or control character in %q", ErrBadSubject, subject)
		}
		tokenStart = false
	}
	if tokenStart {
		return fmt.Errorf("%w: empty token in %q", ErrBadSubject, subject)
	}
	return nil
}
