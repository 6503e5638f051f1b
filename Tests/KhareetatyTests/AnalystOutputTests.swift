import Foundation
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// What BI and GIS tools read directly: the views of migration 20 on a run with history (twelve
/// weeks of incidents with a cluster in the last weeks, so trends, hot spots and emerging patterns
/// all have rows), the PostGIS layers as QGIS discovers them, and a database without PostGIS.
@Suite(.serialized) struct AnalystOutputTests {
    /// Twelve weeks up to `asOf` of spread-out incidents over Kuwait City, and a tight cluster in
    /// the last two weeks: enough for every derived table to hold rows.
    static func twelveWeeks(asOf: String) throws -> String {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        let end = day.date(from: asOf)!
        let categories = ["theft", "assault", "drugs", "vandalism"]
        var csv = "incident_id,occurred_at,category,latitude,longitude,area,description,updated_at\n", n = 0
        for back in 0..<84 {
            let date = day.string(from: end.addingTimeInterval(Double(-back) * 86_400))
            func add(_ lat: Double, _ lon: Double) {
                n += 1
                let hour = Int(uniform() * 24)
                csv += "SYN-\(n),\(date)T\(String(format: "%02d", hour)):15:00+03:00,\(categories[n % 4]),\(String(format: "%.6f", lat)),\(String(format: "%.6f", lon)),,synthetic,\n"
            }
            for _ in 0..<8 { add(29.28 + uniform() * 0.10, 47.92 + uniform() * 0.14) }
            if back < 14 { for _ in 0..<5 { add(29.3390 + uniform() * 0.002, 47.9720 + uniform() * 0.002) } }
        }
        return try temporaryFile("twelve-weeks.csv", contents: csv)
    }

    static let asOf = "2026-11-24"

    @Test func viewsAnswerTheCommonQuestions() throws {
        try withScratchSchema { db, schema in
            _ = try nightlyRunner(db: db, schema: schema, asOf: Self.asOf, inputs: [try Self.twelveWeeks(asOf: Self.asOf)]).run()
            let s = quoteIdentifier(schema)
            func value(_ sql: String) throws -> String? { try db.query(sql.replacingOccurrences(of: "$s", with: s)).scalar }

            // Zero-filled: every day of the history x every area x every category, the counts unchanged.
            let days = try value("SELECT max(local_date) - min(local_date) + 1 FROM $s.district_daily")!
            let categories = try value("SELECT count(DISTINCT category) FROM $s.district_daily")!
            #expect(Int(days) == 84)
            #expect(try value("SELECT count(*) FROM $s.district_daily_filled") == String(Int(days)! * 137 * Int(categories)!))
            #expect(try value("SELECT sum(incident_count) FROM $s.district_daily_filled") == (try value("SELECT sum(incident_count) FROM $s.district_daily")))
            #expect(try value("SELECT count(*) FROM $s.district_daily_filled WHERE incident_count = 0")! != "0")
            // Without the all rows, the categories add up to the totals.
            #expect(try value("SELECT sum(incident_count) FROM $s.district_daily_by_category")
                    == (try value("SELECT sum(incident_count) FROM $s.district_daily WHERE category = 'all'")))
            #expect(try value("SELECT count(*) FROM $s.district_daily_by_category WHERE category = 'all'") == "0")

            // Names in English and Arabic, governorates included; percent to 0.1.
            #expect(try value("SELECT count(*) FROM $s.districts WHERE name_ar IS NOT NULL") != "0")
            #expect(try value("SELECT count(*) FROM $s.governorates WHERE name_ar ~ '[\u{0600}-\u{06FF}]'") == "6")
            #expect(try value("SELECT sum(areas) FROM $s.governorates") == "137")
            #expect(try value("""
                SELECT count(*) FROM $s.district_trends_named WHERE category = 'all' AND district_name IS NOT NULL
                  AND governorate_name_ar IS NOT NULL AND change_pct IS NOT NULL
                """) != "0")
            #expect(try value("SELECT count(*) FROM $s.district_trends WHERE change_pct IS NOT NULL") != "0")
            #expect(try value("SELECT count(*) FROM $s.district_trends WHERE change_pct <> round(change_pct::numeric, 1)::float8") == "0")

            // Cells with their area, emerging ones with a place and a shape.
            #expect(try value("SELECT count(*) FROM $s.hotspot_cells_named WHERE gi_bin > 0 AND district_name IS NOT NULL AND gi_class LIKE 'hot spot%'") != "0")
            #expect(try value("SELECT count(*) FROM $s.emerging_hotspots WHERE pattern <> 'no_pattern'") != "0")
            #expect(try value("SELECT count(*) FROM $s.emerging_hotspots WHERE geometry_geojson IS NULL OR centroid_lat IS NULL") == "0")
            #expect(try value("SELECT count(*) FROM $s.emerging_hotspots_named WHERE pattern LIKE '%hot_spot' AND district_name IS NOT NULL") != "0")

            // The report draws them: hot-spot cells merged into outlines, emerging cells outlined on their own grid.
            let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
            let html = try MorningReport.load(db: db, schema: schema, asOf: Self.asOf, layer: try DistrictLayer.load(pipeline.boundaries),
                                              presentation: pipeline.report, timeZone: pipeline.timeZone).html()
            #expect(html.contains("<path class=\"cluster hot\" d=\"M"))
            let emergingHot = try value("SELECT count(*) FROM $s.emerging_hotspots WHERE pattern IN ('new_hot_spot', 'consecutive_hot_spot', 'intensifying_hot_spot', 'persistent_hot_spot')")
            // The cluster of the last two weeks is a new or consecutive hot spot.
            #expect(emergingHot != "0")
            #expect(html.contains("<path class=\"emerging\" d=\"M"))
        }
    }

    /// QGIS lists a PostGIS layer from `geometry_columns`: each view must be there, typed and with
    /// SRID 4326, hold valid shapes, and agree with the tables it draws.
    @Test func geometryViewsAreValidTypedAndRegistered() throws {
        try withScratchSchema { db, schema in
            _ = try nightlyRunner(db: db, schema: schema, asOf: Self.asOf, inputs: [try Self.twelveWeeks(asOf: Self.asOf)]).run()
            let s = quoteIdentifier(schema)
            let layers = try db.query("""
                SELECT g.f_table_name, g.f_geometry_column, g.type, g.srid, g.coord_dimension, c.relkind
                FROM geometry_columns g
                JOIN pg_namespace n ON n.nspname = g.f_table_schema
                JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = g.f_table_name
                WHERE g.f_table_schema = $1 ORDER BY 1
                """, [schema]).rows
            #expect(layers.map { $0[0] ?? "" } == GeometryLayers.views.sorted())
            for layer in layers { #expect(Array(layer[1...]) == ["geom", "MULTIPOLYGON", "4326", "2", "v"], "\(layer)") }
            #expect(try GeometryLayers.state(db: db, schema: schema) == .installed(postgis: try db.query("SELECT extversion FROM pg_extension WHERE extname = 'postgis'").scalar!,
                                                                                   views: GeometryLayers.views))

            for view in GeometryLayers.views {
                let row = try db.query("SELECT count(*), count(*) FILTER (WHERE ST_IsValid(geom) AND ST_SRID(geom) = 4326) FROM \(s).\(view)").rows[0]
                #expect(row[0] != "0" && row[0] == row[1], "\(view): \(row)")
            }
            func value(_ sql: String) throws -> String? { try db.query(sql.replacingOccurrences(of: "$s", with: s)).scalar }
            #expect(try value("SELECT count(*) FROM $s.districts_geo") == "137")
            // km² on the ellipsoid, as PostGIS measures it: equal to the stored 0.001 rounding.
            #expect(try value("SELECT count(*) FROM $s.districts_geo WHERE abs(ST_Area(geom::geography) / 1e6 - area_km2) > 0.0005001") == "0")
            #expect(try value("SELECT count(*) FROM $s.governorates_geo") == "6")
            #expect(try value("SELECT count(*) FROM $s.governorates_geo g WHERE abs(ST_Area(geom::geography) / 1e6 - area_km2) > 0.01 * area_km2") == "0")
            #expect(try value("SELECT count(*) FROM $s.hotspot_cells_geo") == (try value("SELECT count(*) FROM $s.hotspot_cells")))
            #expect(try value("SELECT count(*) FROM $s.emerging_hotspots_geo") == (try value("SELECT count(*) FROM $s.emerging_hotspots")))
            // A cell's stored centre lies in its square.
            #expect(try value("""
                SELECT count(*) FROM $s.hotspot_cells c JOIN $s.hotspot_cells_geo g USING (as_of_date, window_days, cell_col, cell_row)
                WHERE NOT ST_Contains(g.geom, ST_SetSRID(ST_MakePoint(c.centroid_lon, c.centroid_lat), 4326))
                """) == "0")
            // The reader role (what a BI tool logs in as) sees every layer.
            try db.withTransaction { tx in
                try tx.execute("SET LOCAL ROLE \(quoteIdentifier(schema + "_reader"))")
                for view in GeometryLayers.views { _ = try tx.query("SELECT count(*) FROM \(s).\(view)") }
            }
            // Every layer explains itself too.
            #expect(try db.query("""
                SELECT count(*) FROM pg_attribute a WHERE a.attrelid = ANY(SELECT ($1 || '.' || v)::regclass FROM unnest($2::text[]) v)
                  AND a.attnum > 0 AND col_description(a.attrelid, a.attnum) IS NULL
                """, [s, "{" + GeometryLayers.views.joined(separator: ",") + "}"]).scalar == "0")
        }
    }

    /// A role that may not create PostGIS, in a database without it: migrate and run work, the
    /// migration-20 views work, and `check` says there are no geometry views and why.
    @Test func withoutPostGISEverythingElseWorksAndCheckSaysSo() throws {
        let admin = try connectTestDatabase()
        let tag = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(10)
        let role = "nogis_\(tag)", database = "nogis_\(tag)", schema = "nogis_\(tag)"
        try admin.execute("CREATE ROLE \(role) LOGIN CREATEROLE")
        try admin.execute("CREATE DATABASE \(database) OWNER \(role)")
        defer {
            _ = try? admin.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            for r in Migrator.roles(of: schema) + [role] { _ = try? admin.execute("DROP ROLE IF EXISTS \(r)") }
        }
        let url = try testDatabaseURL()
            .replacingOccurrences(of: #"postgresql:///[^?]*"#, with: "postgresql:///\(database)", options: .regularExpression)
            .replacingOccurrences(of: #"user=[^&]*"#, with: "user=\(role)", options: .regularExpression)
        let db = try PostgresConnection(conninfo: url)
        try db.execute("CREATE SCHEMA \(schema)")
        try Migrator(connection: db, schema: schema).migrate()
        guard case let .absent(reason) = try GeometryLayers.state(db: db, schema: schema) else {
            Issue.record("a role without the right to create PostGIS got geometry views")
            return
        }
        #expect(reason.contains("not created in this database"))
        #expect(try db.query("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'").scalar == "0")

        let env = ["DATABASE_URL": url, "KHAREETATY_DATABASE_SCHEMA": schema]
        let run = try runCLI(["run", "--date", "2026-11-24"], environment: env)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.query("SELECT count(*) FROM \(schema).district_trends_named").scalar != "0")
        #expect(try db.query("SELECT count(*) FROM \(schema).governorates").scalar == "6")
        let check = try runCLI(["check"], environment: env)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect((check.stdout + check.stderr).contains("no geometry views: PostGIS is available but not created in this database"))
    }
}
