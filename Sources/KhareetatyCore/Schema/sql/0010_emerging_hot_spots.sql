-- Per as-of date and grid cell (of that date's hotspot grid): the Mann-Kendall trend of the
-- cell's weekly Gi* z-scores and its ArcGIS emerging hot spot pattern.
CREATE TABLE emerging_hotspots (
    as_of_date date NOT NULL,
    cell_col   integer NOT NULL,
    cell_row   integer NOT NULL,
    weeks      integer NOT NULL,
    mk_tau     double precision,
    mk_z       double precision,
    mk_p       double precision,
    pattern    text NOT NULL,
    PRIMARY KEY (as_of_date, cell_col, cell_row)
);
