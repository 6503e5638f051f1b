-- The date the run reports on (`run --date`, default: yesterday in the pipeline's zone).
ALTER TABLE pipeline_runs ADD COLUMN as_of_date date;
