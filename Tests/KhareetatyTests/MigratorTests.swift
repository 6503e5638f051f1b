import Postgres
import Testing
@testable import KhareetatyCore

@Suite struct MigratorTests {
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
