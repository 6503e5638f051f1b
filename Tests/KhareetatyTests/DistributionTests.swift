import Foundation
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// `database.distribution` on single-node PostgreSQL: the setting, and what migrate, check and a
/// load do when the database is not (or cannot be) a Citus cluster. The cluster itself is tested by
/// `make test-citus` (scripts/test-citus.sh), which CI runs after this suite.
@Suite struct DistributionTests {
    func load(file: String? = nil, env: [String: String] = [:]) throws -> Settings {
        let path = try file.map { try temporaryFile("khareetaty.yaml", contents: $0) }
        return try SettingsLoader(environment: env, configPath: path, databaseFlag: nil, defaultConfigPath: nil).load()
    }

    @Test func settingDefaultsToNoneAndTakesCitus() throws {
        #expect(try load().distribution == .none)
        #expect(try load(file: "database:\n  distribution: citus\n").distribution == .citus)
        #expect(try load(env: ["KHAREETATY_DATABASE_DISTRIBUTION": "citus"]).distribution == .citus)
    }

    @Test func unknownDistributionNamesKeyAndAllowed() throws {
        do {
            _ = try load(file: "database:\n  distribution: sharded\n")
            Issue.record("expected a ConfigError")
        } catch let error as ConfigError {
            #expect(error.key == "database.distribution")
            #expect(error.value == "sharded")
            #expect(error.description.contains("citus"))
        }
    }

    @Test func plainSchemaIsNotDistributedAndLoadsAsBefore() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            #expect(try Distribution.isDistributed(db: db, schema: schema) == false)
            #expect(try Distribution.state(db: db, schema: schema).hasPrefix("none (ordinary PostgreSQL tables)"))
            // A load creates its staging per run (no permanent staging table is left behind).
            var runner = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24")
            let summary = try runner.run()
            #expect(summary.rowsLoaded > 0)
            #expect(try db.query("SELECT to_regclass($1) IS NULL", ["\(quoteIdentifier(schema)).incidents_stage"]).scalar == "t")
        }
    }

    /// Asking for Citus where there is none fails with what to do, and leaves the schema usable.
    @Test func citusWithoutTheExtensionIsRefusedClearly() throws {
        try withScratchSchema { db, schema in
            do {
                try Migrator(connection: db, schema: schema, distribution: .citus).migrate()
                Issue.record("expected a DistributionError")
            } catch let error as DistributionError {
                #expect(error.description.contains("no citus extension"))
                #expect(error.exitCode == .failure)
            }
            // The migrations themselves were applied (each in its own transaction) before the refusal.
            try Migrator(connection: db, schema: schema).requireCurrent()
            #expect(try Distribution.isDistributed(db: db, schema: schema) == false)
        }
    }

    /// `check` says how the tables are placed, and fails a schema configured for Citus that is not.
    @Test func checkReportsTheClusterLine() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            var settings = try testSettings(schema: schema)
            settings.pipelinePath = repoPath("pipelines/nightly.yaml")
            var results = Checks(settings: settings, configFile: nil).run()
            let plain = try #require(results.first { $0.name == "cluster" })
            #expect(plain.ok)
            #expect(plain.detail.hasPrefix("none"))
            settings.distribution = .citus
            results = Checks(settings: settings, configFile: nil).run()
            let wanted = try #require(results.first { $0.name == "cluster" })
            #expect(!wanted.ok)
            #expect(wanted.detail.contains("run `khareetaty migrate` on the Citus coordinator"))
        }
    }
}
