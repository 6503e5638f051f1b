import Foundation
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// TLS to PostgreSQL with a CA of our own, and secrets kept out of everything a run writes.
@Suite struct SecurityTests {
    /// A throwaway cluster (scripts/local-db.sh, own folder and port) serving TLS with a server
    /// certificate for localhost/127.0.0.1 signed by a fresh CA; a second, unrelated CA for the
    /// negative case. openssl makes them.
    struct TLSCluster {
        let dir: String
        let port: Int
        var goodCA: String { dir + "-certs/ca.crt" }
        var wrongCA: String { dir + "-certs/wrong-ca.crt" }
        var url: String { "postgresql://khareetaty@localhost:\(port)/khareetaty" }

        static func start() throws -> TLSCluster {
            let cluster = TLSCluster(dir: "/tmp/khareetaty-tls-\(UUID().uuidString.prefix(8))", port: 57_000 + Int.random(in: 0..<2_000))
            #expect(try localDB("start", dir: cluster.dir, port: cluster.port).status == 0)
            let script = """
                set -euo pipefail
                certs="\(cluster.dir)-certs"; data="\(cluster.dir)/data"
                mkdir -p "$certs" && cd "$certs"
                openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=Khareetaty test CA" 2>/dev/null
                openssl req -x509 -newkey rsa:2048 -nodes -keyout wrong-ca.key -out wrong-ca.crt -days 2 -subj "/CN=Someone else's CA" 2>/dev/null
                openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
                printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf
                openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile ext.cnf 2>/dev/null
                cp server.crt server.key "$data/"
                chown --reference="$data" "$data/server.crt" "$data/server.key"
                chmod 600 "$data/server.key"
                printf "ssl = on\\nssl_cert_file = 'server.crt'\\nssl_key_file = 'server.key'\\n" >> "$data/postgresql.conf"
                """
            _ = try shell("/bin/bash", ["-c", script])
            #expect(try localDB("stop", dir: cluster.dir, port: cluster.port).status == 0)
            #expect(try localDB("start", dir: cluster.dir, port: cluster.port).status == 0)
            return cluster
        }

        func stop() {
            _ = try? localDB("stop", dir: dir, port: port)
            try? FileManager.default.removeItem(atPath: dir)
            try? FileManager.default.removeItem(atPath: dir + "-certs")
        }

        func settings(sslMode: String, rootCert: String) -> Settings {
            var settings = Settings()
            settings.databaseURL = url
            settings.sslMode = sslMode
            settings.sslRootCert = rootCert
            settings.connectRetries = 2
            settings.connectTimeoutSeconds = 5
            return settings
        }
    }

    @Test func verifyFullWithOurCAConnectsOverTLSAndAWrongCAFailsClearly() throws {
        let cluster = try TLSCluster.start()
        defer { cluster.stop() }

        let db = try Database.connect(cluster.settings(sslMode: "verify-full", rootCert: cluster.goodCA))
        #expect(try db.query("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()").scalar == "true")

        // The same server without TLS: the check above is not vacuous.
        let plain = try Database.connect(cluster.settings(sslMode: "disable", rootCert: ""))
        #expect(try plain.query("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()").scalar == "false")

        let started = Date()
        do {
            _ = try Database.connect(cluster.settings(sslMode: "verify-full", rootCert: cluster.wrongCA))
            Issue.record("connected although the server's certificate is not signed by the configured CA")
        } catch let error as TLSFailure {
            #expect(error.exitCode == .usage)
            #expect(error.description.contains("certificate verify failed"), "\(error)")
            #expect(error.description.contains("database.sslrootcert (\(cluster.wrongCA))"))
        }
        #expect(Date().timeIntervalSince(started) < 1, "a certificate failure is not retried")

        // Through the CLI, from the config keys (environment), as an operator would set them.
        let env = ["KHAREETATY_DATABASE_SSLMODE": "verify-full", "KHAREETATY_DATABASE_SSLROOTCERT": cluster.wrongCA]
        let result = try runCLI(["migrate", "--database", cluster.url], environment: env)
        #expect(result.status == 2)
        #expect(result.stderr.contains("certificate verify failed") && result.stderr.contains("database.sslmode (verify-full)"))
        let ok = try runCLI(["migrate", "--database", cluster.url], environment: env.merging(["KHAREETATY_DATABASE_SSLROOTCERT": cluster.goodCA]) { $1 })
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test func noSecretReachesLogsLedgerSummaryOrMetrics() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            // The local cluster trusts its socket, so these passwords are sent and ignored: the run succeeds.
            let url = try testDatabaseURL() + "&password=s3cr3t-url"
            let logFile = NSTemporaryDirectory() + "khareetaty-secrets-\(UUID().uuidString.prefix(8)).log"
            let metrics = NSTemporaryDirectory() + "khareetaty-secrets-\(UUID().uuidString.prefix(8)).prom"
            defer { try? FileManager.default.removeItem(atPath: logFile); try? FileManager.default.removeItem(atPath: metrics) }
            let env = ["DATABASE_URL": url, "PGPASSWORD": "hunter2-env", "KHAREETATY_DATABASE_SCHEMA": schema,
                       "KHAREETATY_LOG_FILE": logFile, "KHAREETATY_LOG_LEVEL": "trace", "KHAREETATY_METRICS_TEXTFILE": metrics]
            let run = try runCLI(["run", "--summary", "json", "--date", "2026-11-24"], environment: env)
            #expect(run.status == 0, "\(run.stderr)")
            let failing = try runCLI(["run", "--database", "postgresql://u:s3cr3t-url@127.0.0.1:1/kw?connect_timeout=1"],
                                     environment: env.merging(["KHAREETATY_DATABASE_CONNECT_RETRIES": "0"]) { $1 })
            #expect(failing.status == 75)
            let config = try runCLI(["config", "show"], environment: env)
            let ledger = try db.query("SELECT row_to_json(r)::text FROM \(quoteIdentifier(schema)).pipeline_runs r").rows.map { $0[0] ?? "" }.joined()
            let everything = [run.stdout, run.stderr, failing.stdout, failing.stderr, config.stdout, config.stderr, ledger,
                              try String(contentsOfFile: logFile, encoding: .utf8), try String(contentsOfFile: metrics, encoding: .utf8)]
            #expect(!ledger.isEmpty && everything[7].contains("reading") && config.stdout.contains("***"))
            for text in everything {
                #expect(!text.contains("s3cr3t-url") && !text.contains("hunter2-env"))
            }
        }
    }
}
