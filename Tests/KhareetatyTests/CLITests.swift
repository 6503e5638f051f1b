import Foundation
import Postgres
import Testing
@testable import KhareetatyCore

/// The `khareetaty` executable as an operator or cron sees it: exit codes, stdout/stderr, no secrets.
@Suite struct CLITests {
    @Test(arguments: [[], ["run"], ["backfill"], ["replay"], ["migrate"], ["check"], ["config", "show"]])
    func helpReadsLikeAManPage(command: [String]) throws {
        let result = try runCLI(command + ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE"))
        #expect(result.stdout.contains("EXIT STATUS"), "\(command)")
    }

    @Test func unknownFlagIsUsageError() throws {
        let result = try runCLI(["run", "--no-such-flag"])
        #expect(result.status == 2)
    }

    @Test func unknownConfigKeyIsExit2NamingTheKey() throws {
        let config = try temporaryFile("c.yaml", contents: "database:\n  schema: x\nbatchsize: 10\n")
        let result = try runCLI(["config", "show", "--config", config])
        #expect(result.status == 2)
        #expect(result.stderr.contains("batchsize"))
        #expect(result.stderr.contains(":3"))
    }

    @Test func wrongTypeIsExit2NamingKeyValueAndAllowed() throws {
        let result = try runCLI(["config", "show"], environment: ["KHAREETATY_BATCH_SIZE": "many"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("batch_size"))
        #expect(result.stderr.contains("many"))
        #expect(result.stderr.contains("allowed"))
    }

    @Test func malformedDatabaseURLIsExit2WithoutTheSecret() throws {
        let result = try runCLI(["migrate", "--database", "postgresql://loader:s3cr3t@db:notaport/kw"])
        #expect(result.status == 2)
        #expect(!result.stderr.contains("s3cr3t"))
        #expect(!result.stdout.contains("s3cr3t"))
    }

    @Test func unreachableDatabaseIsExit75WithoutTheSecret() throws {
        let result = try runCLI(["migrate", "--database", "postgresql://loader:s3cr3t@127.0.0.1:1/kw?connect_timeout=2"],
                                environment: ["PGPASSWORD": "hunter2", "KHAREETATY_DATABASE_CONNECT_RETRIES": "1"])
        #expect(result.stderr.contains("retrying"))
        #expect(result.status == 75)
        #expect(result.stderr.contains("cannot connect"))
        for secret in ["s3cr3t", "hunter2"] {
            #expect(!result.stderr.contains(secret))
            #expect(!result.stdout.contains(secret))
        }
    }

    @Test func checkNamesWhatFailed() throws {
        let result = try runCLI(["check", "--database", "postgresql://u:s3cr3t@127.0.0.1:1/kw?connect_timeout=2"],
                                environment: ["KHAREETATY_DATABASE_CONNECT_RETRIES": "0"])
        #expect(result.status == 75, "the database is down: try again later")
        #expect(result.stdout.contains("ok    config"))
        #expect(result.stdout.contains("ok    boundaries"))
        #expect(result.stdout.contains("FAIL  database"))
        #expect(result.stderr.contains("database"))
        #expect(!(result.stdout + result.stderr).contains("s3cr3t"))
    }

    @Test func configShowRedactsSecrets() throws {
        let result = try runCLI(["config", "show", "--database", "postgresql://loader:s3cr3t@db.example/kw"],
                                environment: ["PGPASSWORD": "hunter2", "PGUSER": "loader"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("user=loader password=*** dbname=kw host=db.example"))
        #expect(result.stdout.contains("--database"))
        #expect(!result.stdout.contains("s3cr3t") && !result.stdout.contains("hunter2"))
    }

    @Test func migrateCheckAndRunWithJSONSummary() throws {
        try withScratchSchema { db, schema in
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema]
            let migrate = try runCLI(["migrate"], environment: env, inheritDatabase: true)
            #expect(migrate.status == 0, "\(migrate.stderr)")
            #expect(migrate.stdout.contains("version \(Migration.latestVersion)"))

            let check = try runCLI(["check"], environment: env, inheritDatabase: true)
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            #expect(!check.stdout.contains("FAIL"))

            let run = try runCLI(["run", "--summary", "json"], environment: env, inheritDatabase: true)
            #expect(run.status == 0, "\(run.stderr)")
            // stdout is exactly one JSON object: logs go to stderr.
            let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            for key in ["run_id", "status", "rows_read", "rows_loaded", "rows_rejected", "rows_duplicate", "rows_unassigned",
                        "rejects_by_reason", "inputs", "duration_s"] {
                #expect(object[key] != nil, "summary lacks \(key)")
            }
            let read = object["rows_read"] as? Int ?? -1
            let parts = ["rows_loaded", "rows_rejected", "rows_duplicate"].map { object[$0] as? Int ?? -1 }.reduce(0, +)
            #expect(read == parts)
            #expect(try db.query("SELECT count(*) FROM \(quoteIdentifier(schema)).incidents").scalar == String(object["rows_loaded"] as? Int ?? -1))
            // Non-terminal stderr gets JSON log lines carrying the run id.
            #expect(run.stderr.contains("\"run_id\":\"\(object["run_id"] as? String ?? "?")\""))
        }
    }
}

/// With no database URL anywhere, libpq's own PG* variables and service file decide.
@Suite struct LibpqDefaultsTests {
    @Test func serviceFileIsHonoured() throws {
        let db = try connectTestDatabase()
        let row = try #require(try db.query("""
            SELECT current_setting('unix_socket_directories'), current_setting('port'), current_user, current_database()
            """).rows.first)
        let serviceFile = try temporaryFile("pg_service.conf", contents: """
            [khareetaty-test]
            host=\(row[0]!)
            port=\(row[1]!)
            user=\(row[2]!)
            dbname=\(row[3]!)

            """)
        let schema = "t_service_\(UInt32.random(in: 0...UInt32.max))"
        defer { _ = try? db.execute("DROP SCHEMA IF EXISTS \(quoteIdentifier(schema)) CASCADE") }
        let result = try runCLI(["migrate"], environment: [
            "PGSERVICEFILE": serviceFile, "PGSERVICE": "khareetaty-test", "KHAREETATY_DATABASE_SCHEMA": schema,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("version \(Migration.latestVersion)"))
    }
}
