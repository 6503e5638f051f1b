-- SHA-256 over the pipeline file and every file it refers to (boundaries, categories, aliases):
-- two runs with the same hash ran with the same rules.
ALTER TABLE pipeline_runs ADD COLUMN pipeline_sha256 text,
                          ADD COLUMN stage_seconds jsonb NOT NULL DEFAULT '{}';
