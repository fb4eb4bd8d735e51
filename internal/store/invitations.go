package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Invitation is a proactive invitation of a site: the widget shows Message beside its launcher to a visitor who
// has spent Delay on a page whose address contains URLContains (any page when empty), when an agent could answer.
type Invitation struct {
	ID          string
	SiteID      string
	Message     string
	URLContains string
	Delay       time.Duration
	Enabled     bool
	// Shown and Answered count how many times it was shown, and answered with a first message.
	Shown     int64
	Answered  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// EventInvited is the first event of a conversation a visitor opened by answering an invitation: its body is the
// invitation's message, its author the site.
const EventInvited = "invited"

const invitationCols = "id, site_id, message, url_contains, delay_seconds, enabled, shown, answered, created_at, updated_at"

func scanInvitation(sc interface{ Scan(...any) error }) (Invitation, error) {
	var in Invitation
	var delay, created, updated int64
	err := sc.Scan(&in.ID, &in.SiteID, &in.Message, &in.URLContains, &delay, &in.Enabled, &in.Shown, &in.Answered, &created, &updated)
	in.Delay, in.CreatedAt, in.UpdatedAt = time.Duration(delay)*time.Second, fromMS(created), fromMS(updated)
	return in, notFound(err)
}

// Invitations lists a site's invitations ("" lists every site's), oldest first.
func (s *Store) Invitations(ctx context.Context, siteID string) ([]Invitation, error) {
	query, args := "SELECT "+invitationCols+" FROM invitations ORDER BY created_at, id", []any{}
	if siteID != "" {
		query, args = "SELECT "+invitationCols+" FROM invitations WHERE site_id = ? ORDER BY created_at, id", []any{siteID}
	}
	rows, err := s.q().query(ctx, query, args...)
	return scanAll(rows, err, func(rows interface{ Scan(...any) error }) (Invitation, error) { return scanInvitation(rows) })
}

// Invitation returns one invitation; an unknown id is ErrNotFound.
func (s *Store) Invitation(ctx context.Context, id string) (Invitation, error) {
	return scanInvitation(s.q().row(ctx, "SELECT "+invitationCols+" FROM invitations WHERE id = ?", id))
}

// CreateInvitation stores a new invitation (its site must exist: else ErrNotFound).
func (s *Store) CreateInvitation(ctx context.Context, in Invitation, now time.Time) (Invitation, error) {
	if _, err := s.Site(ctx, in.SiteID); err != nil {
		return Invitation{}, err
	}
	in.ID, in.Shown, in.Answered, in.CreatedAt, in.UpdatedAt = NewID("in"), 0, 0, now, now
	_, err := s.q().exec(ctx, "INSERT INTO invitations ("+invitationCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		in.ID, in.SiteID, in.Message, in.URLContains, int64(in.Delay/time.Second), in.Enabled, 0, 0, ms(now), ms(now))
	return in, err
}

// UpdateInvitation changes an invitation's message, pages, delay and whether it is on (not its site or counts).
// An unknown id is ErrNotFound.
func (s *Store) UpdateInvitation(ctx context.Context, in Invitation, now time.Time) (Invitation, error) {
	res, err := s.q().exec(ctx, "UPDATE invitations SET message = ?, url_contains = ?, delay_seconds = ?, enabled = ?, updated_at = ? WHERE id = ?",
		in.Message, in.URLContains, int64(in.Delay/time.Second), in.Enabled, ms(now), in.ID)
	if err != nil {
		return Invitation{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Invitation{}, ErrNotFound
	}
	return s.Invitation(ctx, in.ID)
}

// DeleteInvitation removes an invitation; an unknown id is ErrNotFound. Conversations it opened keep their
// "invited" event.
func (s *Store) DeleteInvitation(ctx context.Context, id string) error {
	res, err := s.q().exec(ctx, "DELETE FROM invitations WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// InvitationShown counts one showing of an invitation.
func (s *Store) InvitationShown(ctx context.Context, id string) error {
	_, err := s.q().exec(ctx, "UPDATE invitations SET shown = shown + 1 WHERE id = ?", id)
	return err
}

// appendInvited starts conversation c, which the visitor's first message opened, with the invitation they
// answered (its "invited" event, by the site), and counts the answer. An invitation that is not the site's, or is
// off, is ignored (nil): the message still goes through.
func appendInvited(ctx context.Context, tx q, c Conversation, invitationID string, at time.Time) (*Event, error) {
	var message, siteName string
	var enabled bool
	err := tx.row(ctx, `SELECT i.message, i.enabled, s.name FROM invitations i JOIN sites s ON s.id = i.site_id
		WHERE i.id = ? AND i.site_id = ?`, invitationID, c.SiteID).Scan(&message, &enabled, &siteName)
	if err = notFound(err); errors.Is(err, ErrNotFound) || (err == nil && !enabled) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(map[string]string{"invitation_id": invitationID})
	e := Event{ConversationID: c.ID, Type: EventInvited, Author: AuthorSystem, AuthorName: siteName, Body: message,
		CreatedAt: at, Data: string(data)}
	if err := appendEvent(ctx, tx, &e); err != nil {
		return nil, err
	}
	if _, err := tx.exec(ctx, "UPDATE invitations SET answered = answered + 1 WHERE id = ?", invitationID); err != nil {
		return nil, err
	}
	return &e, nil
}
