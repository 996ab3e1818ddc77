-- Knowledge base registry: documents, their sections (parents) and chunks (children).
-- Vectors live in the configured vector store (Qdrant, or pgvector tables the store creates for its
-- model and dimension); these tables are the source of truth for text and metadata.

CREATE TABLE kb_document (
    id            text PRIMARY KEY,            -- stable: derived from the normalised source path
    source        text NOT NULL UNIQUE,        -- the path or URI as ingested
    title         text NOT NULL,
    category      text,
    content_hash  text NOT NULL,               -- hash of extracted text + chunking parameters
    byte_size     bigint NOT NULL,
    page_count    integer,
    chunk_count   integer NOT NULL,
    embedding_model text NOT NULL,
    ingested_at   timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE kb_section (
    id           text PRIMARY KEY,
    document_id  text NOT NULL REFERENCES kb_document (id) ON DELETE CASCADE,
    ordinal      integer NOT NULL,
    path         text NOT NULL,                -- "Title > Section > Subsection"
    page         integer,
    text         text NOT NULL                 -- the whole section, so an answer can show it
);
CREATE INDEX kb_section_document_idx ON kb_section (document_id);

CREATE TABLE kb_chunk (
    id            uuid PRIMARY KEY,            -- also the point id in the vector store
    document_id   text NOT NULL REFERENCES kb_document (id) ON DELETE CASCADE,
    section_id    text REFERENCES kb_section (id) ON DELETE CASCADE,
    ordinal       integer NOT NULL,
    text          text NOT NULL,               -- the passage as shown to people
    section_path  text NOT NULL,               -- prepended to the text that is embedded
    page          integer,
    source        text NOT NULL,
    category      text,
    content_hash  text NOT NULL,               -- hash of the embedded text
    search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', section_path || ' ' || text)
    ) STORED
);
CREATE INDEX kb_chunk_document_idx ON kb_chunk (document_id);
CREATE INDEX kb_chunk_category_idx ON kb_chunk (category);
CREATE INDEX kb_chunk_search_idx ON kb_chunk USING gin (search_vector);

-- Bumped by every change to the KB, so in-process keyword indexes know when to reload.
CREATE TABLE kb_state (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    revision    bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO kb_state (id, revision) VALUES (true, 0);

-- Embeddings keyed by model and content hash: unchanged text is never embedded twice.
CREATE TABLE embedding_cache (
    model         text NOT NULL,
    content_hash  text NOT NULL,
    dimension     integer NOT NULL,
    vector        bytea NOT NULL,              -- float32, little-endian
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, content_hash)
);
