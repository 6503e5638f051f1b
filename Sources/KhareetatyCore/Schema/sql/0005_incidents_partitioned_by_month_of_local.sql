-- Native range partitions, one per month (incidents_YYYY_MM), created on demand by the
-- loader. The key must hold the partition column; incident_id stays unique because the
-- loader replaces any stored row with the same id, whatever its month.
ALTER TABLE incidents RENAME TO incidents_unpartitioned;
ALTER INDEX incidents_local_date_idx RENAME TO incidents_unpartitioned_local_date_idx;
CREATE TABLE incidents (LIKE incidents_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (local_date);
ALTER TABLE incidents ADD PRIMARY KEY (incident_id, local_date);
CREATE INDEX incidents_local_date_idx ON incidents (local_date);
CREATE INDEX incidents_incident_id_idx ON incidents (incident_id);
DO $$
DECLARE m date;
BEGIN
    FOR m IN SELECT DISTINCT date_trunc('month', local_date)::date FROM incidents_unpartitioned LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF incidents FOR VALUES FROM (%L) TO (%L)',
                       'incidents_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
    END LOOP;
END $$;
INSERT INTO incidents SELECT * FROM incidents_unpartitioned;
DROP TABLE incidents_unpartitioned;
