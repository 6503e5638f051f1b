-- Per as-of date, district and category (incl. 'all'): recent counts against a baseline, and
-- a Mann-Kendall trend over the last `weeks` weekly counts. Replaced per as-of date.
CREATE TABLE district_trends (
    as_of_date    date NOT NULL,
    district_code text NOT NULL,
    category      text NOT NULL,
    count_7d      integer NOT NULL,
    count_28d     integer NOT NULL,
    baseline_7d   double precision NOT NULL,
    change_pct    double precision,
    poisson_z     double precision,
    weeks         integer NOT NULL,
    mk_s          double precision,
    mk_tau        double precision,
    mk_z          double precision,
    mk_p          double precision,
    sen_slope     double precision,
    trend_label   text NOT NULL CHECK (trend_label IN ('rising', 'falling', 'no_trend', 'insufficient_data')),
    PRIMARY KEY (as_of_date, district_code, category)
);
