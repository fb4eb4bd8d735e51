package store

import (
	"context"
	"strings"
)

// SearchLimit is the most conversations a search returns.
const SearchLimit = 30

// SearchConversations finds the conversations an agent may read (AgentCanSee: theirs, waiting in their groups, or
// closed on their groups' sites) whose messages, notes, tags or left e-mail address contain text, ignoring case (ASCII
// letters on SQLite). Newest activity first, at most SearchLimit. text is matched literally: "%" and "_" are not
// wildcards.
func (s *Store) SearchConversations(ctx context.Context, agentID, text string) ([]Summary, error) {
	pattern := "%" + likeEscaper.Replace(strings.ToLower(text)) + "%"
	rows, err := s.q().query(ctx, summarySelect+`WHERE c.site_id IN
		  (SELECT s2.id FROM sites s2 JOIN group_members m ON m.group_id = s2.group_id WHERE m.account_id = ?)
		AND (c.agent_id = ? OR c.agent_id IS NULL OR c.status = 'closed')
		AND (LOWER(c.contact_email) LIKE ? ESCAPE '\'
		  OR EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = c.id AND e.type = 'message' AND LOWER(e.body) LIKE ? ESCAPE '\')
		  OR EXISTS (SELECT 1 FROM conversation_notes n WHERE n.conversation_id = c.id AND LOWER(n.body) LIKE ? ESCAPE '\')
		  OR EXISTS (SELECT 1 FROM conversation_tags t WHERE t.conversation_id = c.id AND t.tag LIKE ? ESCAPE '\'))
		ORDER BY c.updated_at DESC LIMIT ?`, agentID, agentID, pattern, pattern, pattern, pattern, SearchLimit)
	if err != nil {
		return nil, err
	}
	return scanSummaries(rows)
}

// likeEscaper makes a text literal in a LIKE pattern with ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
