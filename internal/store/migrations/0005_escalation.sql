-- Chat-to-video escalation: which agents may invite a visitor into a video call, and the invitations.
ALTER TABLE accounts ADD COLUMN can_escalate BOOLEAN NOT NULL DEFAULT FALSE;

-- An agent's invitation to the visitor of a conversation to move into a video call with them. It waits for the
-- visitor until expires_at; accepted, the visitor goes to the lobby and the call connects them with that agent.
CREATE TABLE call_invites (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    agent_id        TEXT NOT NULL REFERENCES accounts(id),
    -- auto: made by a bot's handover to video; the visitor goes to the lobby without being asked.
    auto            BOOLEAN NOT NULL DEFAULT FALSE,
    state           TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    ended_at        BIGINT NOT NULL DEFAULT 0
);
-- At most one invitation waits per conversation.
CREATE UNIQUE INDEX call_invites_live ON call_invites(conversation_id) WHERE state IN ('pending', 'accepted');
CREATE INDEX call_invites_expiry ON call_invites(state, expires_at);

-- A bot handed the conversation over "to video": the first agent to take it starts a call with the visitor.
ALTER TABLE conversations ADD COLUMN video_on_assign BOOLEAN NOT NULL DEFAULT FALSE;
