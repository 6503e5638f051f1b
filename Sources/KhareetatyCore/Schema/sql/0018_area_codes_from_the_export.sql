-- An export's own area code (police.uk's LSOA code, a neighbourhood number): stored, used to place
-- an incident without a usable point (geocode method `area_code`), and compared with the point's
-- answer where both exist (a disagreement is flagged `area_code_disagrees`, never resolved).
ALTER TABLE incidents ADD COLUMN area_code text;
ALTER TABLE incidents DROP CONSTRAINT incidents_geocode_method_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_geocode_method_check
    CHECK (geocode_method IN ('point', 'nearest', 'area_code', 'name', 'none'));

DO $$
BEGIN
    EXECUTE format('GRANT SELECT (area_code) ON incidents TO %I', current_schema() || '_reader');
END $$;
