-- Outputs analysts use directly: Arabic names on the areas, the place of every emerging cell, the
-- percent change rounded as people read it, and views for the questions BI tools ask first.
-- (The PostGIS geometry views are not here: they exist only where PostGIS does, and `migrate`
-- creates or refreshes them after the migrations — GeometryLayers.swift.)
ALTER TABLE districts ADD COLUMN name_ar text, ADD COLUMN governorate_name_ar text;
COMMENT ON COLUMN districts.name_ar IS 'The area''s name in Arabic: the first Arabic-script alias of the gazetteer (geocode.aliases); NULL when it has none.';
COMMENT ON COLUMN districts.area_km2 IS 'Surface in square kilometres on the WGS 84 ellipsoid (Karney''s algorithm, as PostGIS ST_Area of the geography), rounded to 0.001.';
COMMENT ON COLUMN districts.governorate_name_ar IS 'The governorate''s name in Arabic, from the gazetteer entry keyed by its code; NULL when it has none.';

ALTER TABLE emerging_hotspots ADD COLUMN centroid_lat double precision, ADD COLUMN centroid_lon double precision,
    ADD COLUMN district_code text, ADD COLUMN geometry_geojson text;
COMMENT ON COLUMN emerging_hotspots.centroid_lat IS 'Latitude of the cell''s centre, WGS 84 (NULL for rows written before schema version 20).';
COMMENT ON COLUMN emerging_hotspots.centroid_lon IS 'Longitude of the cell''s centre, WGS 84 (NULL before version 20).';
COMMENT ON COLUMN emerging_hotspots.district_code IS 'The area holding most of the cell (districts.code); NULL outside every area (and before version 20).';
COMMENT ON COLUMN emerging_hotspots.geometry_geojson IS 'The cell''s square as GeoJSON text, WGS 84 (NULL before version 20).';

-- A percent is read to one decimal: 220.00000000000003 was a float's noise, not information.
UPDATE district_trends SET change_pct = round(change_pct::numeric, 1)::float8 WHERE change_pct IS NOT NULL;
COMMENT ON COLUMN district_trends.change_pct IS 'Percent change of count_7d against baseline_7d, rounded to 0.1; NULL when the baseline is 0 or missing.';

CREATE VIEW governorates AS
SELECT governorate_code AS code, min(governorate_name) AS name, min(governorate_name_ar) AS name_ar,
       count(*)::integer AS areas, round(sum(area_km2)::numeric, 3)::float8 AS area_km2
FROM districts WHERE governorate_code IS NOT NULL
GROUP BY governorate_code;
COMMENT ON VIEW governorates IS 'The governorates (larger units) of the current areas: one row each; empty without a governorates file.';
COMMENT ON COLUMN governorates.code IS 'Governorate code (districts.governorate_code).';
COMMENT ON COLUMN governorates.name IS 'Its name as the governorates file has it.';
COMMENT ON COLUMN governorates.name_ar IS 'Its name in Arabic (gazetteer); NULL when none.';
COMMENT ON COLUMN governorates.areas IS 'How many areas it holds.';
COMMENT ON COLUMN governorates.area_km2 IS 'Total surface of those areas, square kilometres.';

-- Every day of the history, every area and every category seen: zeros where nothing happened,
-- so a time series draws 0, not a gap. Days come from an integer series (no time zone can
-- double or drop a day).
CREATE VIEW district_daily_filled AS
WITH span AS (SELECT min(local_date) AS first_day, max(local_date) AS last_day FROM district_daily),
     categories AS (SELECT DISTINCT category FROM district_daily)
SELECT (span.first_day + step)::date AS local_date, d.code AS district_code, d.name AS district_name, c.category,
       coalesce(dd.incident_count, 0) AS incident_count
FROM span
CROSS JOIN generate_series(0, span.last_day - span.first_day) AS step
CROSS JOIN districts d
CROSS JOIN categories c
LEFT JOIN district_daily dd ON dd.local_date = span.first_day + step AND dd.district_code = d.code AND dd.category = c.category;
COMMENT ON VIEW district_daily_filled IS 'district_daily with zeros: one row per day from the first to the last day with counts, per area and category (all included: filter category = ''all'' for totals, category <> ''all'' to sum categories).';
COMMENT ON COLUMN district_daily_filled.local_date IS 'The day, in the pipeline''s time zone.';
COMMENT ON COLUMN district_daily_filled.district_code IS 'The area (districts.code).';
COMMENT ON COLUMN district_daily_filled.district_name IS 'The area''s name (districts.name).';
COMMENT ON COLUMN district_daily_filled.category IS 'Canonical category code, or all for the total over every category.';
COMMENT ON COLUMN district_daily_filled.incident_count IS 'Incidents that day; 0 when none.';

CREATE VIEW district_daily_by_category AS
SELECT local_date, district_code, category, incident_count FROM district_daily WHERE category <> 'all';
COMMENT ON VIEW district_daily_by_category IS 'district_daily without the all rows: safe to SUM over categories.';
COMMENT ON COLUMN district_daily_by_category.local_date IS 'The day, in the pipeline''s time zone.';
COMMENT ON COLUMN district_daily_by_category.district_code IS 'The area (districts.code).';
COMMENT ON COLUMN district_daily_by_category.category IS 'Canonical category code (never all).';
COMMENT ON COLUMN district_daily_by_category.incident_count IS 'Incidents that day (at least 1; missing rows are zeros).';

CREATE VIEW district_trends_named AS
SELECT t.as_of_date, t.district_code, d.name AS district_name, d.name_ar AS district_name_ar,
       d.governorate_code, d.governorate_name, d.governorate_name_ar, t.category,
       t.count_7d, t.count_28d, t.baseline_7d, t.change_pct, t.change_label, t.change_p,
       t.trend_label, t.sen_slope, t.mk_p
FROM district_trends t LEFT JOIN districts d ON d.code = t.district_code;
COMMENT ON VIEW district_trends_named IS 'district_trends with the area''s and governorate''s names in English and Arabic: what a dashboard shows.';
COMMENT ON COLUMN district_trends_named.as_of_date IS 'D: the last day counted.';
COMMENT ON COLUMN district_trends_named.district_code IS 'The area (districts.code).';
COMMENT ON COLUMN district_trends_named.district_name IS 'The area''s name.';
COMMENT ON COLUMN district_trends_named.district_name_ar IS 'The area''s name in Arabic; NULL when the gazetteer has none.';
COMMENT ON COLUMN district_trends_named.governorate_code IS 'The area''s governorate; NULL without a governorates file.';
COMMENT ON COLUMN district_trends_named.governorate_name IS 'The governorate''s name.';
COMMENT ON COLUMN district_trends_named.governorate_name_ar IS 'The governorate''s name in Arabic; NULL when none.';
COMMENT ON COLUMN district_trends_named.category IS 'Canonical category code, or all for the total.';
COMMENT ON COLUMN district_trends_named.count_7d IS 'Incidents in the 7 days D-6 .. D.';
COMMENT ON COLUMN district_trends_named.count_28d IS 'Incidents in the 28 days D-27 .. D.';
COMMENT ON COLUMN district_trends_named.baseline_7d IS 'Mean weekly count of D-34 .. D-7; NULL without that history.';
COMMENT ON COLUMN district_trends_named.change_pct IS 'Percent change against the baseline, rounded to 0.1; NULL when the baseline is 0 or missing.';
COMMENT ON COLUMN district_trends_named.change_label IS 'increase / decrease (exact test, change_p < alpha), no_change, too_few, insufficient_data.';
COMMENT ON COLUMN district_trends_named.change_p IS 'Exact two-sided p of that change.';
COMMENT ON COLUMN district_trends_named.trend_label IS 'Mann-Kendall trend of the weekly counts: rising, falling, no_trend, insufficient_data.';
COMMENT ON COLUMN district_trends_named.sen_slope IS 'Sen''s slope, incidents per week.';
COMMENT ON COLUMN district_trends_named.mk_p IS 'Two-sided p of the Mann-Kendall test.';

CREATE VIEW hotspot_cells_named AS
SELECT c.as_of_date, c.window_days, c.cell_col, c.cell_row, c.centroid_lat, c.centroid_lon,
       c.district_code, d.name AS district_name, d.name_ar AS district_name_ar, d.governorate_name,
       c.incident_count, c.gi_z, c.gi_p, c.gi_bin,
       CASE c.gi_bin WHEN 3 THEN 'hot spot, 99%' WHEN 2 THEN 'hot spot, 95%' WHEN 1 THEN 'hot spot, 90%'
                     WHEN -1 THEN 'cold spot, 90%' WHEN -2 THEN 'cold spot, 95%' WHEN -3 THEN 'cold spot, 99%'
                     ELSE 'not significant' END AS gi_class
FROM hotspot_cells c LEFT JOIN districts d ON d.code = c.district_code;
COMMENT ON VIEW hotspot_cells_named IS 'hotspot_cells with their area''s names and the confidence bin in words.';
COMMENT ON COLUMN hotspot_cells_named.as_of_date IS 'The date analysed.';
COMMENT ON COLUMN hotspot_cells_named.window_days IS 'Days counted (hotspot_grids.window_days).';
COMMENT ON COLUMN hotspot_cells_named.cell_col IS 'Cell column (hotspot_cells.cell_col).';
COMMENT ON COLUMN hotspot_cells_named.cell_row IS 'Cell row.';
COMMENT ON COLUMN hotspot_cells_named.centroid_lat IS 'Latitude of the cell''s centre, WGS 84.';
COMMENT ON COLUMN hotspot_cells_named.centroid_lon IS 'Longitude of the cell''s centre, WGS 84.';
COMMENT ON COLUMN hotspot_cells_named.district_code IS 'The area holding most of the cell; NULL outside every area.';
COMMENT ON COLUMN hotspot_cells_named.district_name IS 'That area''s name.';
COMMENT ON COLUMN hotspot_cells_named.district_name_ar IS 'That area''s name in Arabic; NULL when none.';
COMMENT ON COLUMN hotspot_cells_named.governorate_name IS 'That area''s governorate.';
COMMENT ON COLUMN hotspot_cells_named.incident_count IS 'Incidents in the cell in the window.';
COMMENT ON COLUMN hotspot_cells_named.gi_z IS 'Gi* z-score.';
COMMENT ON COLUMN hotspot_cells_named.gi_p IS 'Two-sided p of Gi*; NULL when the analysis had too few incidents.';
COMMENT ON COLUMN hotspot_cells_named.gi_bin IS 'Confidence bin after FDR: 3/2/1 hot, -1/-2/-3 cold, 0 not significant.';
COMMENT ON COLUMN hotspot_cells_named.gi_class IS 'That bin in words: hot spot, 99% … cold spot, 99%, or not significant.';

CREATE VIEW emerging_hotspots_named AS
SELECT e.as_of_date, e.cell_col, e.cell_row, e.centroid_lat, e.centroid_lon, e.district_code,
       d.name AS district_name, d.name_ar AS district_name_ar, d.governorate_name,
       e.weeks, e.pattern, e.mk_tau, e.mk_p
FROM emerging_hotspots e LEFT JOIN districts d ON d.code = e.district_code;
COMMENT ON VIEW emerging_hotspots_named IS 'emerging_hotspots with their area''s names.';
COMMENT ON COLUMN emerging_hotspots_named.as_of_date IS 'The date analysed (the last week ends on it).';
COMMENT ON COLUMN emerging_hotspots_named.cell_col IS 'Cell column on the emerging grid.';
COMMENT ON COLUMN emerging_hotspots_named.cell_row IS 'Cell row.';
COMMENT ON COLUMN emerging_hotspots_named.centroid_lat IS 'Latitude of the cell''s centre, WGS 84.';
COMMENT ON COLUMN emerging_hotspots_named.centroid_lon IS 'Longitude of the cell''s centre, WGS 84.';
COMMENT ON COLUMN emerging_hotspots_named.district_code IS 'The area holding most of the cell; NULL outside every area.';
COMMENT ON COLUMN emerging_hotspots_named.district_name IS 'That area''s name.';
COMMENT ON COLUMN emerging_hotspots_named.district_name_ar IS 'That area''s name in Arabic; NULL when none.';
COMMENT ON COLUMN emerging_hotspots_named.governorate_name IS 'That area''s governorate.';
COMMENT ON COLUMN emerging_hotspots_named.weeks IS 'Weekly steps analysed.';
COMMENT ON COLUMN emerging_hotspots_named.pattern IS 'The ArcGIS pattern name (emerging_hotspots.pattern).';
COMMENT ON COLUMN emerging_hotspots_named.mk_tau IS 'Kendall tau of the cell''s weekly Gi* z-scores.';
COMMENT ON COLUMN emerging_hotspots_named.mk_p IS 'Two-sided p of that trend.';

DO $$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY ARRAY['governorates', 'district_daily_filled', 'district_daily_by_category', 'district_trends_named',
                             'hotspot_cells_named', 'emerging_hotspots_named'] LOOP
        EXECUTE format('ALTER VIEW %I OWNER TO %I', v, current_schema() || '_owner');
        EXECUTE format('GRANT SELECT ON %I TO %I, %I', v, current_schema() || '_reader', current_schema() || '_loader');
    END LOOP;
END $$;
