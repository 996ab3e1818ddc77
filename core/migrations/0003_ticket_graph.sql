-- Ticket threads: a listing projection of the LangGraph checkpoints, the e-mail outbox,
-- escalation records and the knowledge gaps the continuous-improvement agent records.

CREATE TABLE ticket (
    id              text PRIMARY KEY,          -- also the LangGraph thread id
    subject         text NOT NULL,
    customer_email  text,
    status          text NOT NULL CHECK (status IN
                        ('running', 'rejected', 'answered', 'awaiting_feedback', 'escalated', 'closed')),
    priority        text,
    category        text,
    attempt         integer NOT NULL DEFAULT 1,
    kb_confident    boolean,
    escalation_id   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_status_idx ON ticket (status, updated_at DESC);

CREATE TABLE outbox (
    id               bigserial PRIMARY KEY,
    idempotency_key  text NOT NULL UNIQUE,     -- a resumed node re-sends nothing
    ticket_id        text NOT NULL,
    recipient        text,
    subject          text NOT NULL,
    body             text NOT NULL,
    template         text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'held')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX outbox_pending_idx ON outbox (created_at) WHERE status = 'pending';
CREATE INDEX outbox_ticket_idx ON outbox (ticket_id);

CREATE TABLE escalation (
    id               text PRIMARY KEY,
    ticket_id        text NOT NULL UNIQUE,     -- one hand-off per thread, however often a node re-runs
    team             text NOT NULL,
    reason           text NOT NULL,
    priority         text,
    category         text,
    suggested_skills text[] NOT NULL DEFAULT '{}',
    context          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'resolved')),
    resolution       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    resolved_at      timestamptz
);
CREATE INDEX escalation_status_idx ON escalation (status, created_at DESC);

CREATE TABLE kb_gap (
    id               bigserial PRIMARY KEY,
    ticket_id        text NOT NULL,
    attempt          integer NOT NULL,
    category         text,
    reformulation    text NOT NULL,
    max_similarity   double precision,
    outcome          text NOT NULL,            -- escalated, not_satisfied, not_confident
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (ticket_id, attempt, outcome)
);
CREATE INDEX kb_gap_created_idx ON kb_gap (created_at);
