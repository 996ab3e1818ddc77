-- One row per automatic answer a customer received (ticket + attempt): which FAQ or passage it was built
-- on, and the customer's verdict once they gave it. Satisfied rows confirm the source, "not satisfied"
-- rows are negatives; answer calibration reads them as labels, `doxa improve report` and /metrics count
-- answers, satisfaction and escalations per FAQ and per article.

CREATE TABLE answer_feedback (
    id              bigserial PRIMARY KEY,
    ticket_id       text NOT NULL,
    attempt         integer NOT NULL,
    query           text NOT NULL,                 -- the reformulation the answer was retrieved for
    source_kind     text NOT NULL CHECK (source_kind IN ('faq', 'chunk')),
    source_id       text NOT NULL,                 -- the FAQ id, or the chunk id
    document_id     text,                          -- the chunk's article (per-article counts survive re-chunking)
    title           text NOT NULL,                 -- "FAQ #12" or the article title, for reports
    kb_confident    boolean NOT NULL,
    satisfied       boolean,                       -- NULL until the customer answers
    outcome         text CHECK (outcome IN ('closed', 'retry', 'escalated')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    answered_at     timestamptz,
    UNIQUE (ticket_id, attempt)
);
CREATE INDEX answer_feedback_answered_idx ON answer_feedback (answered_at) WHERE satisfied IS NOT NULL;
CREATE INDEX answer_feedback_source_idx ON answer_feedback (source_kind, source_id);

-- A document's public address (front matter `url:`, or DOXA_KB_BASE_URL joined with its path under the
-- ingested folder): what replies and search results cite, since `source` is a path on the server.
ALTER TABLE kb_document ADD COLUMN url text;
