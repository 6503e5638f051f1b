-- Everything needed to recompute any stored Gi* z-score: the grid (projection, origin, cell
-- size, number of cells), the mean and standard deviation of the counts, the distance band.
CREATE TABLE hotspot_grids (
    as_of_date  date NOT NULL,
    window_days integer NOT NULL,
    projection  text NOT NULL,
    origin_x    double precision NOT NULL,
    origin_y    double precision NOT NULL,
    cell_size_m double precision NOT NULL,
    n_cells     integer NOT NULL,
    mean_count  double precision NOT NULL,
    std_count   double precision NOT NULL,
    band_m      double precision NOT NULL,
    fdr         boolean NOT NULL,
    PRIMARY KEY (as_of_date, window_days)
);
-- Cells with incidents or a non-zero bin; a cell that is not stored has count zero.
CREATE TABLE hotspot_cells (
    as_of_date       date NOT NULL,
    window_days      integer NOT NULL,
    cell_col         integer NOT NULL,
    cell_row         integer NOT NULL,
    centroid_lat     double precision NOT NULL,
    centroid_lon     double precision NOT NULL,
    district_code    text,
    incident_count   integer NOT NULL,
    gi_z             double precision NOT NULL,
    gi_p             double precision NOT NULL,
    gi_bin           integer NOT NULL CHECK (gi_bin BETWEEN -3 AND 3),
    geometry_geojson text NOT NULL,
    PRIMARY KEY (as_of_date, window_days, cell_col, cell_row)
);
