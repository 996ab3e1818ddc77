-- FAQs mined from resolved tickets: staged candidates awaiting review, the production FAQ table the
-- agents retrieve from, snapshots of merged entries (for revert) and an audit trail.
--
-- Vector columns are declared without a dimension here: the FAQ store pins them to vector(N) for the
-- configured model on first use and records (model, dimension) in `vector_collection`, so the dimension
-- comes from configuration and a model change is a clear error, not mixed vectors.
-- Embeddings are of the question only (candidate question vs FAQ questions, customer query vs FAQ
-- questions): like is compared with like.

CREATE TABLE faq (
    id                 bigserial PRIMARY KEY,
    question           text NOT NULL CHECK (length(btrim(question)) > 0),
    answer             text NOT NULL CHECK (length(btrim(answer)) > 0),
    tags               text[] NOT NULL DEFAULT '{}',
    question_embedding vector NOT NULL,
    embedding_model    text NOT NULL,
    version            integer NOT NULL DEFAULT 1,      -- bumped by every merge, revert or edit
    is_deleted         boolean NOT NULL DEFAULT false,  -- soft delete: excluded from every search
    deleted_at         timestamptz,
    deleted_by         text,
    source_staging_id  bigint,                          -- the candidate that created it
    source_ticket_ids  text[] NOT NULL DEFAULT '{}',
    promoted_at        timestamptz NOT NULL DEFAULT now(),
    promoted_by        text NOT NULL,
    metadata           jsonb NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX faq_live_idx ON faq (id) WHERE NOT is_deleted;

CREATE TABLE faq_staging (
    id                 bigserial PRIMARY KEY,
    action             text NOT NULL CHECK (action IN ('NEW', 'MERGE')),
    status             text NOT NULL DEFAULT 'PENDING'
                           CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'REVERTED')),
    question           text NOT NULL,
    answer             text NOT NULL,
    tags               text[] NOT NULL DEFAULT '{}',
    question_embedding vector NOT NULL,
    embedding_model    text NOT NULL,
    confidence         double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    merge_with_id      bigint REFERENCES faq (id),
    similarity         double precision,
    source_ticket_ids  text[] NOT NULL,                 -- every ticket of the cluster
    source_count       integer GENERATED ALWAYS AS (cardinality(source_ticket_ids)) STORED,
    pii_kinds          text[] NOT NULL DEFAULT '{}',    -- kinds redacted from the sources, never values
    run_id             text,                            -- the mining run (and LangGraph thread) that staged it
    version            integer NOT NULL DEFAULT 1,      -- optimistic concurrency for edits and reviews
    reviewed_by        text,
    reviewed_at        timestamptz,
    review_note        text,
    promoted_faq_id    bigint REFERENCES faq (id),
    metadata           jsonb NOT NULL DEFAULT '{}',     -- reason, model, prompt version, category
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((action = 'MERGE') = (merge_with_id IS NOT NULL))
);
CREATE INDEX faq_staging_status_idx ON faq_staging (status, created_at DESC);

-- One row per source ticket: the primary key is what keeps two concurrent runs from staging a ticket twice.
CREATE TABLE faq_staged_ticket (
    ticket_id   text PRIMARY KEY,
    staging_id  bigint NOT NULL REFERENCES faq_staging (id) ON DELETE CASCADE,
    staged_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX faq_staged_ticket_staging_idx ON faq_staged_ticket (staging_id);

-- The production row as it was before a merge or edit changed it; revert restores the latest snapshot.
CREATE TABLE faq_snapshot (
    id            bigserial PRIMARY KEY,
    faq_id        bigint NOT NULL REFERENCES faq (id),
    version       integer NOT NULL,
    question      text NOT NULL,
    answer        text NOT NULL,
    tags          text[] NOT NULL,
    staging_id    bigint REFERENCES faq_staging (id),  -- the merge that replaced this version
    taken_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (faq_id, version)
);

CREATE TABLE faq_audit (
    id          bigserial PRIMARY KEY,
    staging_id  bigint REFERENCES faq_staging (id),
    faq_id      bigint REFERENCES faq (id),
    action      text NOT NULL,                          -- staged, edited, approved, rejected, merged, reverted, deleted
    actor       text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX faq_audit_staging_idx ON faq_audit (staging_id);
CREATE INDEX faq_audit_faq_idx ON faq_audit (faq_id);
