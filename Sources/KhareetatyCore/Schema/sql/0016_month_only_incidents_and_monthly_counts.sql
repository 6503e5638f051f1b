-- Month-only incidents (police.uk publishes `2016-07`): stored on the month's first day with
-- their precision, and kept out of every day-level output (daily counts, windows, trends, hot
-- spots); they count in the monthly table and in the accounting.
ALTER TABLE incidents ADD COLUMN time_precision text NOT NULL DEFAULT 'day'
    CONSTRAINT incidents_time_precision_check CHECK (time_precision IN ('day', 'month'));

-- Incidents per month, district and category (plus category `all`), month-only ones included;
-- month_only_count says how many of them were known only to the month.
CREATE TABLE district_monthly (
    month            date NOT NULL,
    district_code    text NOT NULL,
    category         text NOT NULL,
    incident_count   integer NOT NULL,
    month_only_count integer NOT NULL,
    PRIMARY KEY (month, district_code, category)
);

-- How many loaded incidents of a run were known only to the month.
ALTER TABLE pipeline_runs ADD COLUMN rows_month_only bigint NOT NULL DEFAULT 0;

DO $$
BEGIN
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON district_monthly TO %I', current_schema() || '_loader');
    EXECUTE format('GRANT SELECT ON district_monthly TO %I', current_schema() || '_reader');
    EXECUTE format('GRANT SELECT (time_precision) ON incidents TO %I', current_schema() || '_reader');
END $$;
