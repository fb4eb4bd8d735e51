package store

import (
	"context"
	"fmt"
	"time"
)

// RoutingViolations checks the distribution engine's invariants against the database and describes every
// violation found; none is the expected answer. The simulator and the model tests call it.
//
//   - No agent is over capacity: open conversations plus ringing chat offers stay within their chat slots, and
//     nobody holds more than one video call or ringing video offer.
//   - No conversation has two agents: at most one live assignment per channel, and an assigned chat request's
//     agent is the conversation's agent; a request has at most one accepted offer.
//   - No offer rings past its deadline plus slack.
//   - Every request is in a known state, and a pending offer belongs to an offered request.
//   - A closed conversation, or an ended call, has no request still queued, offered or assigned.
func (s *Store) RoutingViolations(ctx context.Context, now time.Time, slack time.Duration) ([]string, error) {
	checks := []struct {
		what  string
		query string
		args  []any
	}{
		{"agent over chat capacity", `SELECT a.id || ' has ' || CAST(
			(SELECT COUNT(*) FROM conversations c WHERE c.agent_id = a.id AND c.status = 'open') +
			(SELECT COUNT(*) FROM offers o WHERE o.agent_id = a.id AND o.state = 'pending' AND o.channel = 'chat') AS TEXT)
			|| ' for ' || CAST(a.chat_capacity AS TEXT) FROM accounts a WHERE
			(SELECT COUNT(*) FROM conversations c WHERE c.agent_id = a.id AND c.status = 'open') +
			(SELECT COUNT(*) FROM offers o WHERE o.agent_id = a.id AND o.state = 'pending' AND o.channel = 'chat') > a.chat_capacity`, nil},
		{"agent with two video calls", `SELECT agent_id FROM (
			SELECT agent_id FROM routing_requests WHERE channel = 'video' AND state = 'assigned'
			UNION ALL SELECT agent_id FROM offers WHERE channel = 'video' AND state = 'pending') v
			GROUP BY agent_id HAVING COUNT(*) > 1`, nil},
		{"conversation assigned twice", `SELECT conversation_id FROM routing_requests WHERE state = 'assigned'
			GROUP BY conversation_id, channel HAVING COUNT(*) > 1`, nil},
		{"chat request and conversation disagree on the agent", `SELECT r.id FROM routing_requests r JOIN conversations c ON c.id = r.conversation_id
			WHERE r.channel = 'chat' AND r.state = 'assigned' AND (c.agent_id IS NULL OR c.agent_id <> r.agent_id)`, nil},
		{"request accepted twice", `SELECT request_id FROM offers WHERE state = 'accepted' GROUP BY request_id HAVING COUNT(*) > 1`, nil},
		{"offer ringing past its deadline", `SELECT id FROM offers WHERE state = 'pending' AND deadline < ?`, []any{ms(now.Add(-slack))}},
		{"pending offer of a request not offered", `SELECT o.id FROM offers o JOIN routing_requests r ON r.id = o.request_id
			WHERE o.state = 'pending' AND r.state <> 'offered'`, nil},
		{"request in an unknown state", `SELECT id FROM routing_requests WHERE state NOT IN
			('queued', 'offered', 'assigned', 'closed', 'refused', 'abandoned', 'expired', 'cancelled')`, nil},
		{"live request of a closed conversation", `SELECT r.id FROM routing_requests r JOIN conversations c ON c.id = r.conversation_id
			WHERE r.state IN ('queued', 'offered', 'assigned') AND c.status = 'closed'`, nil},
		{"live video request of an ended call", `SELECT r.id FROM routing_requests r JOIN calls k ON k.request_id = r.id
			WHERE r.channel = 'video' AND r.state IN ('queued', 'offered', 'assigned') AND k.ended_at > 0`, nil},
		{"offered request with nothing ringing", `SELECT r.id FROM routing_requests r WHERE r.state = 'offered' AND NOT EXISTS
			(SELECT 1 FROM offers o WHERE o.request_id = r.id AND o.state = 'pending')`, nil},
	}
	var out []string
	for _, c := range checks {
		found, err := s.strings(ctx, c.query, c.args...)
		if err != nil {
			return nil, fmt.Errorf("store: check %q: %w", c.what, err)
		}
		for _, f := range found {
			out = append(out, c.what+": "+f)
		}
	}
	return out, nil
}
