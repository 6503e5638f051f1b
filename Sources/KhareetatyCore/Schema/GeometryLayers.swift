import Postgres

/// The PostGIS views GIS tools open as layers: areas, governorates, hot-spot cells and emerging
/// cells, each with a typed `geom` column (MultiPolygon, SRID 4326) built from the tables' GeoJSON
/// text, so PostGIS registers them in `geometry_columns` and QGIS lists them. They exist only where
/// PostGIS does, so they are not a migration: `migrate` creates the extension when the server has it
/// and the role may, then creates or refreshes the views (idempotent). Without PostGIS every table
/// and view of the migrations still works, and `check` says which case holds.
public enum GeometryLayers {
    public enum State: Sendable, Equatable, CustomStringConvertible {
        case installed(postgis: String, views: [String])
        case absent(reason: String)

        public var description: String {
            switch self {
            case let .installed(postgis, views): "PostGIS \(postgis): geometry views \(views.joined(separator: ", ")) (SRID 4326, for QGIS and other GIS tools)"
            case let .absent(reason): "no geometry views: \(reason); the GeoJSON text columns hold every shape"
            }
        }
    }

    /// Each layer: its view, what it is, and the SELECT before its geometry (`src` is the source
    /// relation, whose columns' comments the view's same-named columns take).
    struct Layer {
        let view: String
        let comment: String
        let source: String
        let sql: (_ postgis: String) -> String
    }

    static func layers() -> [Layer] {
        func geom(_ postgis: String, _ column: String) -> String {
            "\(postgis).ST_SetSRID(\(postgis).ST_GeomFromGeoJSON(\(column)), 4326)::\(postgis).geometry(MultiPolygon, 4326) AS geom"
        }
        return [
            Layer(view: "districts_geo", comment: "The areas as a PostGIS layer (MultiPolygon, SRID 4326): districts with a typed geometry.",
                  source: "districts") { p in
                "SELECT code, name, name_ar, governorate_code, governorate_name, governorate_name_ar, area_km2, \(geom(p, "geometry_geojson")) FROM districts"
            },
            Layer(view: "governorates_geo", comment: "The governorates as a PostGIS layer: the union of their areas (MultiPolygon, SRID 4326).",
                  source: "governorates") { p in
                """
                SELECT g.code, g.name, g.name_ar, g.areas, g.area_km2,
                       \(p).ST_Multi(\(p).ST_Union(d.geom))::\(p).geometry(MultiPolygon, 4326) AS geom
                FROM governorates g JOIN districts_geo d ON d.governorate_code = g.code
                GROUP BY g.code, g.name, g.name_ar, g.areas, g.area_km2
                """
            },
            Layer(view: "hotspot_cells_geo", comment: "Gi* grid cells as a PostGIS layer (one square per cell, date and window; SRID 4326), with their area and bin in words.",
                  source: "hotspot_cells_named") { p in
                """
                SELECT n.as_of_date, n.window_days, n.cell_col, n.cell_row, n.district_code, n.district_name, n.district_name_ar,
                       n.governorate_name, n.incident_count, n.gi_z, n.gi_p, n.gi_bin, n.gi_class, \(geom(p, "c.geometry_geojson"))
                FROM hotspot_cells_named n
                JOIN hotspot_cells c USING (as_of_date, window_days, cell_col, cell_row)
                """
            },
            Layer(view: "emerging_hotspots_geo", comment: "Emerging hot-spot cells as a PostGIS layer (SRID 4326), with their area and pattern; rows written before schema version 20 have no shape and are left out.",
                  source: "emerging_hotspots_named") { p in
                """
                SELECT n.as_of_date, n.cell_col, n.cell_row, n.district_code, n.district_name, n.district_name_ar, n.governorate_name,
                       n.weeks, n.pattern, n.mk_tau, n.mk_p, \(geom(p, "e.geometry_geojson"))
                FROM emerging_hotspots_named n
                JOIN emerging_hotspots e USING (as_of_date, cell_col, cell_row)
                WHERE e.geometry_geojson IS NOT NULL
                """
            },
        ]
    }

    public static var views: [String] { layers().map(\.view) }

    /// Creates PostGIS if it can, then the views; returns what holds.
    @discardableResult
    public static func ensure(connection: PostgresConnection, schema: String) throws -> State {
        let s = quoteIdentifier(schema)
        if try installedSchema(connection) == nil {
            guard try isAvailable(connection) else { return .absent(reason: "the server has no PostGIS extension (Debian: postgresql-15-postgis-3)") }
            do {
                try connection.withTransaction { db in
                    // Two migrations at once (tests, workers) must not both create it.
                    try db.query("SELECT pg_advisory_xact_lock(hashtext('khareetaty.postgis'))")
                    try db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                }
            } catch let error as PostgresError {
                return .absent(reason: "PostGIS is available but not created in this database, and this role may not create it "
                               + "(\(error.sqlState ?? "error")): a superuser can run CREATE EXTENSION postgis, then khareetaty migrate")
            }
        }
        guard let postgis = try installedSchema(connection) else { return .absent(reason: "PostGIS could not be created") }
        let p = quoteIdentifier(postgis)
        try connection.withTransaction { db in
            try db.query("SELECT pg_advisory_xact_lock(hashtext('khareetaty.migrate.' || $1))", [schema])
            try db.execute("SET LOCAL search_path TO \(s)")
            for layer in layers() {
                let v = quoteIdentifier(layer.view)
                // Replace, not CREATE OR REPLACE: a later version may change a view's columns.
                try db.execute("DROP VIEW IF EXISTS \(v) CASCADE")
                try db.execute("CREATE VIEW \(v) AS \(layer.sql(p))")
                try db.query("SELECT set_config('khareetaty.comment', $1, true)", [layer.comment])
                try db.execute("""
                    DO $$
                    DECLARE c record;
                    BEGIN
                        EXECUTE format('COMMENT ON VIEW %I IS %L', '\(layer.view)', current_setting('khareetaty.comment'));
                        FOR c IN SELECT a.attname, col_description(src.attrelid, src.attnum) AS note
                                 FROM pg_attribute a
                                 LEFT JOIN pg_attribute src ON src.attrelid = '\(layer.source)'::regclass AND src.attname = a.attname
                                 WHERE a.attrelid = '\(layer.view)'::regclass AND a.attnum > 0 LOOP
                            EXECUTE format('COMMENT ON COLUMN %I.%I IS %L', '\(layer.view)', c.attname,
                                           coalesce(c.note, 'The shape: MultiPolygon, WGS 84 longitude/latitude (SRID 4326), from geometry_geojson.'));
                        END LOOP;
                        EXECUTE format('ALTER VIEW %I OWNER TO %I', '\(layer.view)', current_schema() || '_owner');
                        EXECUTE format('GRANT SELECT ON %I TO %I, %I', '\(layer.view)', current_schema() || '_reader', current_schema() || '_loader');
                    END $$
                    """)
            }
        }
        return try state(db: connection, schema: schema)
    }

    /// What holds now: PostGIS and which of the views exist, or why none do.
    public static func state(db: any Queryable, schema: String) throws -> State {
        guard let postgis = try installedSchema(db) else {
            return .absent(reason: try isAvailable(db) ? "PostGIS is available but not created in this database (khareetaty migrate creates it where the role may)"
                                             : "the server has no PostGIS extension")
        }
        let version = try db.query("SELECT extversion FROM pg_extension WHERE extname = 'postgis'").scalar ?? "?"
        let present = Set(try db.query("SELECT f_table_name FROM \(quoteIdentifier(postgis)).geometry_columns WHERE f_table_schema = $1",
                                       [schema]).rows.compactMap { $0[0] })
        let views = views.filter(present.contains)
        guard !views.isEmpty else { return .absent(reason: "PostGIS \(version) is installed but the views are missing: run khareetaty migrate") }
        return .installed(postgis: version, views: views)
    }

    /// The schema PostGIS lives in, or nil when the database does not have it.
    static func installedSchema(_ db: any Queryable) throws -> String? {
        try db.query("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'postgis'").scalar
    }

    static func isAvailable(_ db: any Queryable) throws -> Bool {
        try db.query("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").scalar != nil
    }
}
