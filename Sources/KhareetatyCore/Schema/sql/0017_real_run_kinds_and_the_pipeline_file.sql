-- The ledger says what kind of run each row is (a `run` by cron or by hand, a `backfill`, a
-- backfill `worker`, a `replay`; older rows keep `nightly`), and which pipeline file it ran with,
-- so that `report`, `backfill` and `check` can default to the pipeline that made the data.
ALTER TABLE pipeline_runs DROP CONSTRAINT pipeline_runs_kind_check;
ALTER TABLE pipeline_runs ADD CONSTRAINT pipeline_runs_kind_check
    CHECK (kind IN ('nightly', 'run', 'backfill', 'worker', 'replay'));
ALTER TABLE pipeline_runs ADD COLUMN pipeline_file text;
