-- The answer-confidence model fitted on each state of the knowledge base (issue 11): the model behind
-- kb_confident, with the KB revision and FAQ fingerprint it was fitted on, so a query uses the last fitted
-- one and a change (ingest, FAQ promotion, edit or deletion) is seen as a new state to refit on.

CREATE TABLE kb_answer_calibration (
    id              bigserial PRIMARY KEY,
    kb_revision     bigint NOT NULL,
    faq_fingerprint text NOT NULL,
    embedding_model text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('logistic', 'fallback')),
    threshold       double precision NOT NULL CHECK (threshold BETWEEN 0 AND 1),
    model           jsonb NOT NULL,                 -- kb.answer_confidence.AnswerModel.as_dict()
    curve           jsonb NOT NULL DEFAULT '[]',    -- cross-validated precision / coverage per threshold
    seconds         double precision NOT NULL,      -- how long the fit took
    fitted_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kb_answer_calibration_latest_idx ON kb_answer_calibration (embedding_model, fitted_at DESC, id DESC);
