ALTER TABLE incidents ADD COLUMN geocode_detail text;
UPDATE incidents SET geocode_method = CASE geocode_method WHEN 'polygon' THEN 'point' WHEN 'unassigned' THEN 'none'
                                                          ELSE geocode_method END;
ALTER TABLE incidents ADD CONSTRAINT incidents_geocode_method_check
    CHECK (geocode_method IN ('point', 'nearest', 'name', 'none'));
ALTER TABLE pipeline_runs ADD COLUMN geocode_methods jsonb NOT NULL DEFAULT '{}';
