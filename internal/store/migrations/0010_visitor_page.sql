-- The page of the company's website the visitor is on (its address and title), as the widget last told it: the
-- agent sees it beside the conversation.
ALTER TABLE conversations ADD COLUMN page_url TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN page_title TEXT NOT NULL DEFAULT '';
