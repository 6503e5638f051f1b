-- One row per as-of date, analysis ('hotspot' per window, 'emerging' over the trend weeks) and
-- window: whether there was enough data ('insufficient_data' marks no cell), how many incidents,
-- the fixed CRS of the grid, the scale chosen and why, the inference and its seed.
ALTER TABLE hotspot_grids
    ADD COLUMN analysis text NOT NULL DEFAULT 'hotspot' CHECK (analysis IN ('hotspot', 'emerging')),
    ADD COLUMN status text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'insufficient_data')),
    ADD COLUMN n_incidents integer,
    ADD COLUMN crs text,
    ADD COLUMN inference text NOT NULL DEFAULT 'normal_approximation',
    ADD COLUMN permutations integer,
    ADD COLUMN seed bigint,
    ADD COLUMN nn_median_m double precision,
    ADD COLUMN neighbours_min integer,
    ADD COLUMN neighbours_max integer,
    ADD COLUMN study_areas integer,
    ADD COLUMN steps_with_data integer,
    ADD COLUMN scale_reason text;
ALTER TABLE hotspot_grids DROP CONSTRAINT hotspot_grids_pkey;
ALTER TABLE hotspot_grids ADD PRIMARY KEY (as_of_date, analysis, window_days);
-- Without an analysis there is no p-value.
ALTER TABLE hotspot_cells ALTER COLUMN gi_p DROP NOT NULL;
-- A baseline the history does not cover is missing, not zero; the change is judged by an
-- exact test on the counts.
ALTER TABLE district_trends
    ALTER COLUMN baseline_7d DROP NOT NULL,
    ADD COLUMN change_p double precision,
    ADD COLUMN change_label text CHECK (change_label IN ('increase', 'decrease', 'no_change', 'too_few', 'insufficient_data'));
-- The newest load a done chunk had seen: a later load makes it stale and the next backfill redoes it.
ALTER TABLE backfill_chunks ADD COLUMN data_version timestamptz;
