-- The continuous-improvement agent's proposal for the KB entry that would close a gap (LLM or offline),
-- kept with the gap so `doxa improve report` can recommend a titled, outlined article.

ALTER TABLE kb_gap ADD COLUMN suggested_title text;
ALTER TABLE kb_gap ADD COLUMN suggested_outline text[] NOT NULL DEFAULT '{}';
