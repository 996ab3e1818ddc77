-- FAQ mining resumes by when tickets ARRIVED in ClickHouse (tickets.imported_at), not by when they closed:
-- exports come late and out of order, and a ticket imported after a run but closed before that run's
-- (closed_at, id) position was skipped forever. A position on closing times cannot be translated into one
-- on arrival times, so existing watermarks lose theirs: the next run reads its lookback window once more,
-- and tickets already staged stay skipped (faq_staged_ticket claims them). tickets_processed is kept.

ALTER TABLE mining_watermark ADD COLUMN arrived_at timestamptz;  -- keyset position, part 1; NULL: none yet
ALTER TABLE mining_watermark DROP COLUMN closed_at;
