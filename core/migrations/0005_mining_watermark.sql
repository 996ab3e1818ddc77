-- FAQ mining watermark: per ticket source, the last ticket (closed_at, id) whose batch was fully
-- processed. Scheduled runs resume strictly after it, so no ticket is mined twice or skipped.

CREATE TABLE mining_watermark (
    source             text PRIMARY KEY,            -- e.g. "clickhouse:ticketing.tickets"
    closed_at          timestamptz NOT NULL,        -- keyset position, part 1
    ticket_id          text COLLATE "C" NOT NULL,   -- part 2 (ties); byte order, as ClickHouse sorts
    tickets_processed  bigint NOT NULL DEFAULT 0,   -- running total, for status output
    updated_at         timestamptz NOT NULL DEFAULT now()
);
