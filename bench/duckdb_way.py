#!/usr/bin/env python3
"""The peers' job done the DuckDB way, for `make bench` to measure beside Khareetaty's:
read the CSV, clean it (timestamps, coordinates in the bounding box, categories mapped to their
codes), keep the latest record per id, assign each point to the area that contains it (spatial
extension, its spatial join), and store the incidents (primary key on the id) and the daily counts
per area and category (plus `all`) in PostgreSQL through the postgres extension.

Usage: bench/duckdb_way.py CSV BOUNDARIES.geojson CATEGORIES.yaml POSTGRES_URL SCHEMA
Prints one JSON line: rows read, kept, loaded, assigned.

The extensions come from the PyPI wheels (duckdb-extension-spatial, duckdb-extension-postgres),
loaded from their files: no network. DuckDB derives an extension's entry point from its file
name, so the postgres one is loaded as postgres_scanner.duckdb_extension.
"""
import glob, json, os, re, shutil, sys, tempfile

import duckdb
import duckdb_extension_postgres
import duckdb_extension_spatial

csv, boundaries, categories, url, schema = sys.argv[1:6]


def extension(module, name):
    return glob.glob(os.path.join(os.path.dirname(module.__file__), "extensions", "*", name + ".duckdb_extension"))[0]


scratch = tempfile.mkdtemp()
postgres_ext = os.path.join(scratch, "postgres_scanner.duckdb_extension")
shutil.copy(extension(duckdb_extension_postgres, "postgres"), postgres_ext)

con = duckdb.connect(config={"threads": os.cpu_count() or 2})
con.execute(f"LOAD '{extension(duckdb_extension_spatial, 'spatial')}'")
con.execute(f"LOAD '{postgres_ext}'")
con.execute("SET TimeZone = 'Asia/Kuwait'")

# Category spellings → codes, normalised as the pipeline does for ASCII (case, _ - / and spaces).
def norm(text):
    return re.sub(r"\s+", " ", re.sub(r"[_\-/]", " ", text.strip().lower()))

pairs = []
for line in open(categories, encoding="utf-8"):
    match = re.match(r"^(\w+):\s*\[(.*)\]", line)
    if match:
        code = match.group(1)
        pairs += [(norm(code), code)] + [(norm(s), code) for s in match.group(2).split(",") if s.strip()]
con.execute("CREATE TABLE category_map (spelling VARCHAR PRIMARY KEY, code VARCHAR)")
con.executemany("INSERT OR IGNORE INTO category_map VALUES (?, ?)", pairs)

con.execute(f"CREATE TABLE areas AS SELECT shapeID AS code, geom FROM ST_Read('{boundaries}')")
con.execute(f"""
    CREATE TABLE raw AS SELECT * FROM read_csv('{csv}', header = true, all_varchar = true, parallel = true)
""")
read = con.execute("SELECT count(*) FROM raw").fetchone()[0]
con.execute("""
    CREATE TABLE clean AS
    SELECT incident_id,
           coalesce(try_strptime(occurred_at, '%Y-%m-%dT%H:%M:%S%z'), try_strptime(occurred_at, '%Y-%m-%dT%H:%M:%S'),
                    try_strptime(occurred_at, '%d/%m/%Y %H:%M'), try_strptime(occurred_at, '%d/%m/%Y %H:%M:%S'))::TIMESTAMPTZ AS occurred_at,
           coalesce(m.code, 'other') AS category,
           try_cast(latitude AS DOUBLE) AS lat, try_cast(longitude AS DOUBLE) AS lon,
           area AS area_name, description,
           try_cast(updated_at AS TIMESTAMPTZ) AS updated_at
    FROM raw LEFT JOIN category_map m ON m.spelling = regexp_replace(regexp_replace(lower(trim(raw.category)), '[_\\-/]', ' ', 'g'), '\\s+', ' ', 'g')
    WHERE nullif(trim(incident_id), '') IS NOT NULL AND nullif(trim(raw.category), '') IS NOT NULL
""")
con.execute("""
    CREATE TABLE kept AS
    SELECT * FROM clean
    WHERE occurred_at IS NOT NULL AND lat BETWEEN 28.5 AND 30.15 AND lon BETWEEN 46.5 AND 48.7
    QUALIFY row_number() OVER (PARTITION BY incident_id ORDER BY updated_at DESC NULLS LAST, occurred_at DESC) = 1
""")
con.execute("""
    CREATE TABLE placed AS
    SELECT k.*, (k.occurred_at AT TIME ZONE 'Asia/Kuwait')::DATE AS local_date, a.code AS district_code
    FROM kept k LEFT JOIN areas a ON ST_Contains(a.geom, ST_Point(k.lon, k.lat))
""")
con.execute(f"ATTACH '{url}' AS pg (TYPE postgres)")
con.execute(f"CALL postgres_execute('pg', 'DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}')")
# A point on the edge two areas share is in both: keep one, as a point-in-polygon index does.
con.execute("""
    CREATE TABLE final AS
    SELECT incident_id, occurred_at, local_date, category, lat, lon, area_name, description, updated_at, district_code
    FROM placed QUALIFY row_number() OVER (PARTITION BY incident_id ORDER BY district_code) = 1
""")
con.execute(f"CREATE TABLE pg.{schema}.incidents AS SELECT * FROM final")
con.execute(f"""
    CREATE TABLE pg.{schema}.district_daily AS
    SELECT local_date, district_code, category, count(*)::INTEGER AS incident_count
    FROM final WHERE district_code IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT local_date, district_code, 'all', count(*)::INTEGER
    FROM final WHERE district_code IS NOT NULL GROUP BY ALL
""")
con.execute(f"CALL postgres_execute('pg', 'ALTER TABLE {schema}.incidents ADD PRIMARY KEY (incident_id); "
            f"ALTER TABLE {schema}.district_daily ADD PRIMARY KEY (local_date, district_code, category)')")
loaded, assigned = con.execute("SELECT count(*), count(district_code) FROM final").fetchone()
print(json.dumps({"rows_read": read, "rows_loaded": loaded, "rows_assigned": assigned}))
shutil.rmtree(scratch)
