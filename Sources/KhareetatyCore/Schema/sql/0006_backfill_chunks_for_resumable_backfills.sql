-- One row per finished chunk of a backfill; a backfill re-run with the same arguments
-- (same key) skips the chunks already here.
CREATE TABLE backfill_chunks (
    backfill_key text NOT NULL,
    chunk_start  date NOT NULL,
    chunk_end    date NOT NULL,
    run_id       uuid NOT NULL,
    finished_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (backfill_key, chunk_start)
);
