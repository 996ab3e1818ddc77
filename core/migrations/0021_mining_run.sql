-- Every finished FAQ-mining run (thread id = run id), so that checkpoint pruning can find runs that staged
-- nothing: those have no faq_staging row, and nightly empty runs would otherwise keep their checkpoints forever.

CREATE TABLE mining_run (
    run_id       text PRIMARY KEY,
    finished_at  timestamptz NOT NULL DEFAULT now(),
    processed    integer NOT NULL,          -- tickets the run read
    staged       integer NOT NULL           -- candidates it staged (0: prunable once older than the cutoff)
);
CREATE INDEX mining_run_finished_idx ON mining_run (finished_at);
