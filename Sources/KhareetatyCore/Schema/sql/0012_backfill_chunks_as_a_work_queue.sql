-- `backfill --enqueue` writes a range's chunks as 'open'; `backfill --worker` processes claim
-- them with FOR UPDATE SKIP LOCKED and mark them 'done' in the same transaction.
ALTER TABLE backfill_chunks
    ALTER COLUMN run_id DROP NOT NULL,
    ALTER COLUMN finished_at DROP NOT NULL,
    ADD COLUMN status text NOT NULL DEFAULT 'done' CHECK (status IN ('open', 'done')),
    ADD COLUMN worker text;
ALTER TABLE backfill_chunks ADD CONSTRAINT backfill_chunks_done_check
    CHECK (status = 'open' OR (run_id IS NOT NULL AND finished_at IS NOT NULL));
CREATE INDEX backfill_chunks_open_idx ON backfill_chunks (chunk_start) WHERE status = 'open';
