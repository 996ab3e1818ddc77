-- The registry of stored vector collections: which embedding model and dimension each one holds, so a store
-- opened with another model refuses instead of mixing vectors of two models (kb/vector_collection.py reads and
-- writes it). The KB's pgvector store and the FAQ store used to create it on first use: IF NOT EXISTS keeps
-- databases where they did migrating cleanly.

CREATE TABLE IF NOT EXISTS vector_collection (
    name text PRIMARY KEY,
    backend text NOT NULL,
    model text NOT NULL,
    dimension integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
