import Foundation
import Postgres
import Testing
@testable import KhareetatyCore

/// No secret in any output, and a server that refuses the client is a configuration error (exit 2)
/// at once — never retried as a temporary failure, which could lock the account.
@Suite struct SecretAndRefusalTests {
    func configError(_ yaml: String) throws -> ConfigError? {
        let path = try temporaryFile("khareetaty.yaml", contents: yaml)
        do { _ = try SettingsLoader(environment: [:], configPath: path, databaseFlag: nil, defaultConfigPath: nil).load() } catch let error as ConfigError {
            return error
        }
        return nil
    }

    @Test func yamlErrorsNeverQuoteTheFile() throws {
        for yaml in [
            "database:\n  url: postgresql://u:SECRETX@h/db\n  url: postgresql://u:SECRETX@h/db\n",
            "database:\n  url: postgresql://u:SECRETX@h/db\n   schema: [unclosed\n",
            "database:\n  url: \"postgresql://u:SECRETX@h/db\n",
            "database: {url: postgresql://u:SECRETX@h/db\n",
        ] {
            let error = try #require(try configError(yaml))
            #expect(!error.description.contains("SECRETX"), "\(error)")
            #expect(error.description.contains("line"), "\(error)")
        }
    }

    @Test func configShowMasksEveryPasswordVariable() throws {
        let result = try runCLI(["config", "show"], environment: [
            "PGPASSWORD": "SECRETX1", "PGSSLPASSWORD": "SECRETX2", "PGDATABASE": "host=h password=SECRETX3", "PGHOST": "db.example",
            "KHAREETATY_DATABASE_URL": "host=h password = SECRETX4 dbname=d",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        for n in 1...4 { #expect(!result.stdout.contains("SECRETX\(n)"), "\(result.stdout)") }
        #expect(result.stdout.contains("PGSSLPASSWORD=***") && result.stdout.contains("PGHOST=db.example"))
    }

    /// A file without a header: its first data row stands where the header should be. The error
    /// the ledger keeps (readable by the reader role) must not quote it.
    @Test func theLedgerNeverQuotesARecord() throws {
        let input = try temporaryFile("noheader.csv", contents: "KW-1,2026-11-20T10:00:00+03:00,theft,29.33,48.07,SECRETNAME 96512345678,civil 281234567890,\n")
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let result = try runCLI(["run", "--pipeline", try nightlyPipeline(tables: "[]"), input], environment: ["KHAREETATY_DATABASE_SCHEMA": schema], inheritDatabase: true)
            #expect(result.status == 65, "\(result.stderr)")
            let error = try #require(try db.query("SELECT error FROM \(quoteIdentifier(schema)).pipeline_runs").scalar)
            #expect(error.contains("has no column"), "\(error)")
            for value in ["SECRETNAME", "96512345678", "281234567890"] {
                #expect(!error.contains(value) && !result.stderr.contains(value), "\(error)")
            }
        }
    }

    @Test func aServerErrorsDetailStaysOutOfTheLedger() {
        let error = PostgresError(kind: .query, sqlState: "23505", message: "duplicate key value violates unique constraint", detail: "Key (incident_id)=(SECRETX) already exists.")
        #expect(!RunLedger.text(of: error).contains("SECRETX"))
        #expect(RunLedger.text(of: error).contains("23505"))
    }

    /// A throwaway cluster whose TCP connections need a SCRAM password (the socket stays trusted).
    @Test func aWrongPasswordOrRoleIsExit2AtOnceAndARightOneConnects() throws {
        let dir = "/tmp/khareetaty-auth-\(UUID().uuidString.prefix(8))", port = 59_000 + Int.random(in: 0..<900)
        #expect(try localDB("start", dir: dir, port: port).status == 0)
        defer { _ = try? localDB("stop", dir: dir, port: port); try? FileManager.default.removeItem(atPath: dir) }
        let socket = try PostgresConnection(conninfo: "postgresql:///khareetaty?host=\(dir)/run&port=\(port)&user=khareetaty")
        try socket.execute("SET password_encryption = 'scram-sha-256'; ALTER ROLE khareetaty PASSWORD 'right-one'")
        let hba = try #require(try socket.query("SHOW hba_file").scalar)
        let original = try String(contentsOfFile: hba, encoding: .utf8)
        try ("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n" + original).write(toFile: hba, atomically: false, encoding: .utf8)
        _ = try socket.query("SELECT pg_reload_conf()")
        Thread.sleep(forTimeInterval: 0.5)

        func settings(_ url: String) -> Settings {
            var settings = Settings()
            settings.databaseURL = url
            settings.connectRetries = 3  // 1 + 2 + 4 s of waits if it were retried
            return settings
        }
        for (url, problem) in [
            ("postgresql://khareetaty:SECRETX@127.0.0.1:\(port)/khareetaty", "password authentication failed"),
            ("postgresql://nobody:SECRETX@127.0.0.1:\(port)/khareetaty", "password authentication failed"),
            ("postgresql://khareetaty@127.0.0.1:\(port)/khareetaty", "no password supplied"),
            ("postgresql:///nosuchdb?host=\(dir)/run&port=\(port)&user=khareetaty", "does not exist"),
        ] {
            let started = Date()
            do {
                _ = try Database.connect(settings(url))
                Issue.record("\(url) connected")
            } catch let error as DatabaseRefused {
                #expect(error.exitCode == .usage)
                #expect(error.description.contains(problem), "\(error)")
                #expect(!error.description.contains("SECRETX"))
            }
            #expect(Date().timeIntervalSince(started) < 3, "a refusal must not be retried")
        }
        let ok = try Database.connect(settings("postgresql://khareetaty:right-one@127.0.0.1:\(port)/khareetaty"))
        #expect(try ok.query("SELECT 1").scalar == "1")

        // The whole command: exit 2, not 75.
        let cli = try runCLI(["migrate", "--database", "postgresql://khareetaty:SECRETX@127.0.0.1:\(port)/khareetaty"])
        #expect(cli.status == 2, "\(cli.stderr)")
        #expect(!cli.stderr.contains("SECRETX"))
    }
}
