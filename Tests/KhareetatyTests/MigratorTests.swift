import Logging
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

@Suite struct MigratorTests {
    /// The migrations moved from Swift literals to Schema/sql/*.sql: a schema migrated by an earlier
    /// khareetaty must still verify, so each shipped migration's checksum is pinned here as it was
    /// applied. A changed file fails this test (add a new migration instead).
    @Test func shippedMigrationsAreByteIdenticalToWhatSchemasWereMigratedWith() {
        let applied: [Int: String] = [
            1: "70a83aaa2f7ebae7",
            2: "c8987df501269f81",
            3: "426862db21bc7b50",
            4: "241db91a474191fa",
            5: "901d6de20fbae964",
            6: "1c4219f772ffec8a",
            7: "151373829331fc7f",
            8: "12c93d6b61a44f0f",
            9: "95b3222a69f09c73",
            10: "fc1bdf188831cd34",
            11: "356ec0c05c8492c1",
            12: "2a37ffa3d29c058c",
            13: "7192ecfc916ac238",
            14: "948024312e63962",
            15: "ed85ee8e710cf5c2",
            16: "592b9626098b5999",
            17: "e7ad0d18b3cae556",
            18: "cae943a7ff7a36fb",
            19: "cf81d4d8ec4dec67",
            20: "6bf58be6b60e2b78",
            21: "162f14e1a9b2eaa0",
            22: "3b69c194ccc33515",
        ]
        // Every shipped migration is pinned: a new one adds its line when it ships.
        for migration in Migration.all {
            #expect(migration.checksum == applied[migration.version], "migration \(migration.version) (\(migration.name)) changed or is not pinned")
        }
        #expect(Migration.all.map(\.version) == Array(1...Migration.latestVersion))
    }

    @Test func migratesAFreshSchemaOnceAndIsIdempotent() throws {
        try withScratchSchema { db, schema in
            let migrator = Migrator(connection: db, schema: schema)
            #expect(throws: MigrationError.self) { try migrator.requireCurrent() }
            let first = try migrator.migrate()
            #expect(first.map(\.version) == Migration.all.map(\.version))
            #expect(try migrator.migrate().isEmpty)
            try migrator.requireCurrent()
            let tables = try db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", [schema])
                .rows.compactMap { $0[0] }
            for table in ["district_daily", "districts", "incident_rejects", "incidents", "pipeline_runs", "schema_migrations"] {
                #expect(tables.contains(table), "missing table \(table)")
            }
        }
    }

    @Test func refusesASchemaNewerThanItKnows() throws {
        try withScratchSchema { db, schema in
            let migrator = Migrator(connection: db, schema: schema)
            try migrator.migrate()
            try db.query("INSERT INTO \(quoteIdentifier(schema)).schema_migrations (version, name, checksum) VALUES ($1, 'from the future', 'x')",
                         [String(Migration.latestVersion + 1)])
            #expect(throws: MigrationError.self) { try migrator.migrate() }
            #expect(throws: MigrationError.self) { try migrator.requireCurrent() }
        }
    }

    @Test func refusesAnEditedMigration() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let edited = [Migration(version: 1, name: "initial", sql: Migration.all[0].sql + "\n-- edited")]
            #expect(throws: MigrationError.self) { try Migrator(connection: db, schema: schema, migrations: edited).migrate() }
        }
    }

    @Test func aFailingMigrationRollsBackWhole() throws {
        try withScratchSchema { db, schema in
            let broken = Migration.all + [Migration(version: 99, name: "broken", sql: "CREATE TABLE half (x int); SELECT 1/0;")]
            #expect(throws: PostgresError.self) { try Migrator(connection: db, schema: schema, migrations: broken).migrate() }
            let versions = try Migrator(connection: db, schema: schema).appliedVersions()
            #expect(versions.keys.sorted() == Migration.all.map(\.version))
            #expect(try db.query("SELECT to_regclass($1)", [quoteIdentifier(schema) + ".half"]).scalar == nil)
        }
    }
}

@Suite struct PartitioningTests {
    @Test func migrationFiveMovesStoredIncidentsIntoMonthlyPartitions() throws {
        try withScratchSchema { db, schema in
            let s = quoteIdentifier(schema)
            try Migrator(connection: db, schema: schema, migrations: Array(Migration.all.prefix(4))).migrate()
            for (id, day) in [("a", "2026-10-31"), ("b", "2026-11-01"), ("c", "2025-01-15")] {
                try db.query("""
                    INSERT INTO \(s).incidents (incident_id, occurred_at, local_date, category, geocode_method, source_file, source_line, run_id)
                    VALUES ($1, $2::date, $2::date, 'theft', 'none', 'f', 1, gen_random_uuid())
                    """, [id, day])
            }
            try Migrator(connection: db, schema: schema).migrate()
            let partitions = try db.query("""
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = to_regclass($1) ORDER BY 1
                """, [s + ".incidents"]).rows.compactMap { $0[0] }
            #expect(partitions == ["incidents_2025_01", "incidents_2026_10", "incidents_2026_11"])
            #expect(try db.query("SELECT string_agg(incident_id, ',' ORDER BY incident_id) FROM \(s).incidents").scalar == "a,b,c")
            #expect(try db.query("SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)", [s + ".incidents"]).scalar == "p")
        }
    }

    @Test func runsCreateTheMonthsTheyNeed() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let pipeline = try PipelineDefinition.load(path: repoPath("fixtures/incidents/messy/pipeline.yaml"))
            let summary = try PipelineRunner(settings: try testSettings(schema: schema), pipeline: pipeline, logger: .init(label: "t")).run()
            let months = try db.query("SELECT string_agg(DISTINCT to_char(local_date, 'YYYY_MM'), ',' ORDER BY to_char(local_date, 'YYYY_MM')) FROM \(quoteIdentifier(schema)).incidents").scalar ?? ""
            let partitions = try db.query("""
                SELECT string_agg(substr(c.relname, 11), ',' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = to_regclass($1)
                """, [quoteIdentifier(schema) + ".incidents"]).scalar
            #expect(summary.rowsLoaded > 0)
            #expect(months.contains(","), "the fixture spans several months")
            #expect(partitions == months)
        }
    }
}
