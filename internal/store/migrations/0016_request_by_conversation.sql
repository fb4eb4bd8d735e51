-- A conversation's routing requests, newest last: the desks' summaries read why a conversation was turned away.
CREATE INDEX routing_requests_conversation ON routing_requests(conversation_id, channel, enqueued_at);
