-- Studio's copies of production threads (`doxa studio open`): each copy is a new UUID thread in the
-- checkpoint tables, registered here with the thread and checkpoint it copies, so that nobody takes a copy
-- for the real ticket or run and `doxa maintenance prune` can delete copies once they are old.

CREATE TABLE studio_thread (
    thread_id             text PRIMARY KEY,            -- the copy's UUID (LangGraph's server needs UUIDs)
    graph                 text NOT NULL CHECK (graph IN ('ticket', 'faq_mining')),
    source_thread_id      text NOT NULL,               -- the ticket id or the mining run id
    source_checkpoint_id  text NOT NULL,               -- the source's latest checkpoint when it was copied
    created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX studio_thread_created_at ON studio_thread (created_at);
CREATE INDEX studio_thread_source ON studio_thread (source_thread_id);
