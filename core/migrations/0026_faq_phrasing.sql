-- FAQs are asked many ways: each phrasing besides the FAQ's current question is a vector of its own that
-- points at the FAQ (retrieval returns the FAQ once, at its best phrasing). Phrasings come from the
-- wording of the tickets an FAQ was mined from, from questions a reviewer edited or a merge replaced, and
-- from `variants` given on import. The FAQ's current question stays in `faq.question_embedding`.
--
-- Like the other FAQ vectors, `embedding` is untyped here: the FAQ store pins it to vector(N) for the
-- configured model and indexes it on first use.

CREATE TABLE faq_phrasing (
    id              bigserial PRIMARY KEY,
    faq_id          bigint NOT NULL REFERENCES faq (id) ON DELETE CASCADE,
    phrasing        text NOT NULL CHECK (length(btrim(phrasing)) > 0),
    origin          text NOT NULL CHECK (origin IN ('ticket', 'edit', 'variant')),
    staging_id      bigint REFERENCES faq_staging (id),  -- the approval that added it (a revert removes it)
    embedding       vector NOT NULL,
    embedding_model text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (faq_id, phrasing)
);
CREATE INDEX faq_phrasing_faq_idx ON faq_phrasing (faq_id);

-- A candidate's phrasings until it is approved: [{"text": ..., "origin": "ticket" | "edit"}, ...].
ALTER TABLE faq_staging ADD COLUMN phrasings jsonb NOT NULL DEFAULT '[]';
