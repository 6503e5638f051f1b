import Foundation
import Logging
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// Metrics textfile, log file rotation, progress and the ledger listing, as an operator meets them.
@Suite struct ObservabilityTests {
    /// Every sample of a Prometheus text file as parsed by the reference client library
    /// (prometheus-client's own parser): [name, labels, value].
    func parsePrometheus(_ path: String) throws -> [(name: String, labels: [String: String], value: Double)] {
        let parsed = try pyref("""
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            text = open(json.load(sys.stdin)[0]).read()
            print(json.dumps([[s.name, s.labels, s.value] for f in text_string_to_metric_families(text) for s in f.samples]))
            """, input: [path]) as! [[Any]]
        return parsed.map { ($0[0] as! String, $0[1] as! [String: String], ($0[2] as! NSNumber).doubleValue) }
    }

    /// A Kubernetes CronJob has no node_exporter: the metrics go to a Pushgateway. A small HTTP
    /// server stands in for it and records what it is sent.
    @Test func metricsArePushedToAPushgatewayAndAFailureKeepsTheLastSuccess() throws {
        let dir = URL(fileURLWithPath: try temporaryFile("x", contents: "")).deletingLastPathComponent().path
        let port = 58_000 + Int.random(in: 0..<900)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-c", """
            import http.server, sys, os
            n = [0]
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers['Content-Length']))
                    n[0] += 1
                    open(os.path.join(sys.argv[1], 'push-%d.txt' % n[0]), 'w').write(self.command + ' ' + self.path + '\\n' + body.decode())
                    self.send_response(202); self.end_headers()
                def log_message(self, *a): pass
            http.server.HTTPServer(('127.0.0.1', int(sys.argv[2])), H).serve_forever()
            """, dir, String(port)]
        try server.run()
        // SIGKILL: a child of the test runner inherits its blocked SIGTERM.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        Thread.sleep(forTimeInterval: 0.5)
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema, "KHAREETATY_METRICS_PUSHGATEWAY": "http://127.0.0.1:\(port)"]
            let ok = try runCLI(["run", "--pipeline", try nightlyPipeline(tables: "[]")], environment: env, inheritDatabase: true)
            #expect(ok.status == 0, "\(ok.stderr)")
            let first = try String(contentsOfFile: dir + "/push-1.txt", encoding: .utf8)
            #expect(first.hasPrefix("POST /metrics/job/khareetaty/pipeline/nightly\n"))
            #expect(first.contains("khareetaty_last_run_success{pipeline=\"nightly\"} 1") && first.contains("khareetaty_last_success_timestamp_seconds"))
            #expect(first.contains("# HELP khareetaty_last_run_rows"))

            let failed = try runCLI(["run", "--pipeline", try nightlyPipeline(tables: "[]"), dir + "/missing.csv"], environment: env, inheritDatabase: true)
            #expect(failed.status == 66)
            let second = try String(contentsOfFile: dir + "/push-2.txt", encoding: .utf8)
            #expect(second.contains("khareetaty_last_run_exit_code{pipeline=\"nightly\"} 66"))
            #expect(!second.contains("khareetaty_last_success_timestamp_seconds"), "POST without it keeps the gateway's last success")
        }
        // A gateway that is down is logged, and the run's outcome stands.
        let down = try runCLI(["config", "show"], environment: ["KHAREETATY_METRICS_PUSHGATEWAY": "http://u:SECRETX@127.0.0.1:1"])
        #expect(down.status == 0 && !down.stdout.contains("SECRETX"))
    }

    @Test func metricsTextfileIsPrometheusExpositionWithTheRunsAccounting() throws {
        try withScratchSchema { db, schema in
            let summary = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24").run()
            let path = try temporaryFile("metrics-{pipeline}.prom", contents: "")
            let file = MetricsTextfile(template: path, pipeline: "nightly")
            #expect(file.path.hasSuffix("metrics-nightly.prom"))
            try file.write(counts: summary.counts, succeeded: true, exitCode: 0, finishedAt: Date(timeIntervalSince1970: 1_800_000_000))
            let samples = try parsePrometheus(file.path)
            func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
                samples.first { $0.name == name && $0.labels == labels.merging(["pipeline": "nightly"]) { $1 } }?.value
            }
            #expect(value("khareetaty_last_run_success") == 1)
            #expect(value("khareetaty_last_run_exit_code") == 0)
            let text = try String(contentsOfFile: file.path, encoding: .utf8)
            for name in Set(samples.map(\.name)) { #expect(text.contains("# HELP \(name) "), "\(name) has no # HELP line") }
            // A run refused because another held the schema leaves the holder's file alone.
            var settings = Settings()
            settings.metricsTextfile = path
            MetricsTextfile.record(settings, pipeline: "nightly", summary: nil, error: RunLocked(schema: schema, holder: nil, waited: 0), logger: Logger(label: "test"))
            #expect(try String(contentsOfFile: file.path, encoding: .utf8) == text)
            #expect(value("khareetaty_last_success_timestamp_seconds") == 1_800_000_000)
            #expect(value("khareetaty_last_run_rows", ["fate": "read"]) == Double(summary.rowsRead))
            #expect(value("khareetaty_last_run_rows", ["fate": "loaded"]) == Double(summary.rowsLoaded))
            #expect(value("khareetaty_last_run_rows", ["fate": "rejected"]) == Double(summary.rowsRejected))
            #expect(value("khareetaty_last_run_rows", ["fate": "duplicate"]) == Double(summary.rowsDuplicate))
            #expect(value("khareetaty_last_run_rows", ["fate": "unassigned"]) == Double(summary.rowsUnassigned))
            for (reason, n) in summary.rejectsByReason { #expect(value("khareetaty_last_run_rejected_rows", ["reason": reason]) == Double(n)) }
            for (stage, s) in summary.stageSeconds {  // the exporter prints doubles to 16 significant digits
                let written = try #require(value("khareetaty_last_run_stage_seconds", ["stage": stage]))
                #expect(abs(written - s) <= 1e-12 * max(abs(s), 1e-9), "\(stage): \(written) vs \(s)")
            }
            #expect(!summary.rejectsByReason.isEmpty && summary.rowsRead > 300)

            // A failed run (database down: exit 75, no summary) keeps the last success, so the
            // "time since last success" alert keeps counting.
            try file.write(counts: nil, succeeded: false, exitCode: 75, finishedAt: Date(timeIntervalSince1970: 1_800_086_400))
            let after = try parsePrometheus(file.path)
            #expect(after.contains { $0.name == "khareetaty_last_run_success" && $0.value == 0 })
            #expect(after.contains { $0.name == "khareetaty_last_run_exit_code" && $0.value == 75 })
            #expect(after.contains { $0.name == "khareetaty_last_success_timestamp_seconds" && $0.value == 1_800_000_000 })
            #expect(after.contains { $0.name == "khareetaty_last_run_timestamp_seconds" && $0.value == 1_800_086_400 })
            #expect(!after.contains { $0.name == "khareetaty_last_run_rows" })
            // Written by rename: no temporary file is left beside it.
            let folder = URL(fileURLWithPath: file.path).deletingLastPathComponent().path
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".tmp") }.isEmpty)
        }
    }

    @Test func logFileRotatesBySizeKeepingN() throws {
        let dir = NSTemporaryDirectory() + "khareetaty-log-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = RotatingLogFile(path: dir + "/run.log", maxBytes: 1000, keep: 3)
        let lines = (0..<100).map { String(format: "line %03d ", $0) + String(repeating: "x", count: 90) + "\n" }  // 100 bytes each
        for line in lines { log.write(Data(line.utf8)) }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files == ["run.log", "run.log.1", "run.log.2", "run.log.3"])
        var kept = ""
        for name in ["run.log.3", "run.log.2", "run.log.1", "run.log"] {
            let text = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
            #expect(text.utf8.count <= 1000)
            #expect(text.hasSuffix("\n"))  // whole lines only
            kept += text
        }
        // The newest lines, in order, none lost between the files kept.
        #expect(kept == lines.suffix(kept.utf8.count / 100).joined())
        #expect(kept.utf8.count == 4000)
    }

    @Test func progressLineShowsShareRateAndTimeLeft() {
        let line = Progress.line(done: 45, total: 100, unit: "bytes", rate: 10, eta: 5.5, label: "x.csv", detail: "1200 rows  300 rows/s")
        #expect(line.contains(" 45%") && line.contains("1200 rows  300 rows/s") && line.contains("ETA 0:06") && line.hasSuffix("x.csv"))
        #expect(line.hasPrefix(String(repeating: "█", count: 10) + String(repeating: "·", count: 14)))
        #expect(Progress.line(done: 2, total: 12, unit: "chunks", rate: 1, eta: 3725, label: "", detail: "").contains("2/12 chunks  ETA 1:02:05"))
    }

    @Test func runsListsTheLedgerAndTheLogFileCarriesRunIDAndStage() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let logFile = NSTemporaryDirectory() + "khareetaty-\(UUID().uuidString.prefix(8)).log"
            let metrics = NSTemporaryDirectory() + "khareetaty-\(UUID().uuidString.prefix(8))-{pipeline}.prom"
            defer {
                try? FileManager.default.removeItem(atPath: logFile)
                try? FileManager.default.removeItem(atPath: metrics.replacingOccurrences(of: "{pipeline}", with: "nightly"))
            }
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema, "KHAREETATY_LOG_FILE": logFile, "KHAREETATY_METRICS_TEXTFILE": metrics]
            let run = try runCLI(["run", "--summary", "json", "--date", "2026-11-24"], environment: env, inheritDatabase: true)
            #expect(run.status == 0, "\(run.stderr)")
            let runID = try #require((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["run_id"] as? String)
            // Second run: the same input is skipped, a second ledger row.
            #expect(try runCLI(["run", "--date", "2026-11-24"], environment: env, inheritDatabase: true).status == 0)

            let listing = try runCLI(["runs", "--last", "5"], environment: env, inheritDatabase: true)
            #expect(listing.status == 0, "\(listing.stderr)")
            let lines = listing.stdout.split(separator: "\n")
            #expect(lines.count == 3)  // header + two runs, newest first
            #expect(lines[0].hasPrefix("started (UTC)"))
            #expect(lines[2].contains(String(runID.prefix(8))) && lines[2].contains("succeeded") && lines[2].split(separator: " ").contains("run"))  // the kind
            let json = try runCLI(["runs", "--last", "1", "--json"], environment: env, inheritDatabase: true)
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
            #expect(entries.count == 1 && entries[0]["status"] as? String == "succeeded")

            // The log file: JSON lines, those of the run carrying its id and stage.
            let logLines = try String(contentsOfFile: logFile, encoding: .utf8).split(separator: "\n")
            let objects = try logLines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            #expect(objects.contains { $0["msg"] as? String == "reading" && $0["run_id"] as? String == runID && $0["stage"] as? String == "ingest" })
            // Numbers stay numbers, for a log shipper to sum and compare.
            #expect(objects.contains { $0["msg"] as? String == "run committed" && $0["run_id"] as? String == runID && $0["stage"] as? String == "load"
                && ($0["rows_loaded"] as? Int ?? 0) > 0 })
            // With a log file, stderr carries errors only: cron mails nothing on a good night.
            #expect(run.stderr.isEmpty, "\(run.stderr)")
            // The metrics textfile of the last run (the skip) exists and says success.
            let prom = try String(contentsOfFile: metrics.replacingOccurrences(of: "{pipeline}", with: "nightly"), encoding: .utf8)
            #expect(prom.contains("khareetaty_last_run_success{pipeline=\"nightly\"} 1"))
        }
    }
}
