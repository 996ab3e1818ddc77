-- The API's scheduled jobs (FAQ mining, checkpoint pruning): the last run of each, shared by every replica.
-- `last_scheduled_for` is the cron tick the last run served: a replica that wins the job's advisory lock
-- after another replica already served that tick skips it, so each tick runs at most once.

CREATE TABLE scheduled_job (
    name                text PRIMARY KEY,
    cron                text NOT NULL,
    last_scheduled_for  timestamptz,
    last_started_at     timestamptz,
    last_finished_at    timestamptz,
    last_status         text CHECK (last_status IN ('running', 'succeeded', 'failed')),
    last_summary        jsonb,                  -- what the job returned (e.g. the prune report)
    last_error          text,                   -- exception and traceback of the last failed run
    last_runner         text,                   -- host:pid of the replica that ran it
    runs                bigint NOT NULL DEFAULT 0,
    failures            bigint NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
