-- What the clean stage repaired or substituted (swapped_coordinates, unknown_category, transcoded).
ALTER TABLE incidents ADD COLUMN flags text[] NOT NULL DEFAULT '{}';
ALTER TABLE pipeline_runs ADD COLUMN rejects_by_reason jsonb NOT NULL DEFAULT '{}',
                          ADD COLUMN flags jsonb NOT NULL DEFAULT '{}';
