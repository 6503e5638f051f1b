import Foundation
import Logging
import Prometheus

/// The outcome of a run as a Prometheus textfile, for node_exporter's textfile collector: gauges
/// of the last run (a batch job has no process to scrape), each with its `# HELP`, written through
/// swift-prometheus's registry, to a temporary file beside the target and renamed over it, so the
/// collector never reads half a file.
///
/// `metrics.textfile` may contain `{pipeline}`, replaced by the pipeline's name, so that several
/// pipelines keep one file each. The last-success timestamp survives a failed run: it is carried
/// over from the previous file, so "time since the last success" keeps rising while runs fail —
/// the alert an on-call engineer wants.
public struct MetricsTextfile: Sendable {
    public let path: String
    public let pipeline: String

    public init(template: String, pipeline: String) {
        self.pipeline = pipeline
        path = template.replacingOccurrences(of: "{pipeline}", with: pipeline)
    }

    static let lastSuccess = "khareetaty_last_success_timestamp_seconds"

    /// What each series means, as its `# HELP` line.
    static let help = [
        "khareetaty_last_run_success": "1 if the last run of the pipeline succeeded, 0 if it failed",
        "khareetaty_last_run_exit_code": "Exit code of the last run (0 ok, 2 configuration, 65 data, 66 input missing, 75 temporary, 130/143 signal)",
        "khareetaty_last_run_timestamp_seconds": "When the last run ended (Unix time)",
        lastSuccess: "When a run of the pipeline last succeeded (Unix time); alert on time() minus this",
        "khareetaty_last_run_duration_seconds": "Wall time of the last run",
        "khareetaty_last_run_rows": "Records of the last run by fate: read = loaded + rejected + duplicate; unassigned is part of loaded",
        "khareetaty_last_run_rejected_rows": "Records the last run rejected, by reason code",
        "khareetaty_last_run_geocoded_rows": "Records the last run loaded, by geocode method",
        "khareetaty_last_run_stage_seconds": "Wall time of each stage of the last run",
    ]

    /// Writes the file for a finished run: its summary when there is one (a failed run may have
    /// none), its status and exit code.
    public func write(summary: RunSummary?, succeeded: Bool, exitCode: Int32, finishedAt: Date = Date()) throws {
        let now = finishedAt.timeIntervalSince1970
        let text = Self.exposition(pipeline: pipeline, summary: summary, succeeded: succeeded, exitCode: exitCode, finishedAt: finishedAt,
                                   lastSuccess: succeeded ? now : previousLastSuccess())
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    /// The Prometheus text exposition of a finished run; `lastSuccess` nil leaves that series out.
    static func exposition(pipeline: String, summary: RunSummary?, succeeded: Bool, exitCode: Int32, finishedAt: Date, lastSuccess: Double?) -> String {
        let registry = PrometheusCollectorRegistry()
        func gauge(_ name: String, _ value: Double, _ labels: [(String, String)] = []) {
            registry.makeGauge(name: name, labels: [("pipeline", pipeline)] + labels, help: help[name] ?? "").set(value)
        }
        gauge("khareetaty_last_run_success", succeeded ? 1 : 0)
        gauge("khareetaty_last_run_exit_code", Double(exitCode))
        gauge("khareetaty_last_run_timestamp_seconds", finishedAt.timeIntervalSince1970)
        if let lastSuccess { gauge(Self.lastSuccess, lastSuccess) }
        if let summary {
            gauge("khareetaty_last_run_duration_seconds", summary.durationS)
            for (fate, n) in [("read", summary.rowsRead), ("loaded", summary.rowsLoaded), ("rejected", summary.rowsRejected),
                              ("duplicate", summary.rowsDuplicate), ("unassigned", summary.rowsUnassigned)] {
                gauge("khareetaty_last_run_rows", Double(n), [("fate", fate)])
            }
            for (reason, n) in summary.rejectsByReason { gauge("khareetaty_last_run_rejected_rows", Double(n), [("reason", reason)]) }
            for (method, n) in summary.geocodeMethods { gauge("khareetaty_last_run_geocoded_rows", Double(n), [("method", method)]) }
            for (stage, seconds) in summary.stageSeconds { gauge("khareetaty_last_run_stage_seconds", seconds, [("stage", stage)]) }
        }
        return registry.emitToString()
    }

    /// The last-success timestamp of this pipeline in the file as it is now, if any.
    func previousLastSuccess() -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(Self.lastSuccess + "{") && line.contains("pipeline=\"\(pipeline)\"") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }

    /// Records a run's outcome where `metrics.textfile` and `metrics.pushgateway` say; a failure to
    /// write or push is logged, never turned into a failed run (its data are already committed or
    /// rolled back).
    public static func record(_ settings: Settings, pipeline: String, summary: RunSummary?, error: (any Error)?, logger: Logger) {
        guard !settings.metricsTextfile.isEmpty || !settings.metricsPushgateway.isEmpty else { return }
        // A run refused because another holds the schema did not run: the holder writes its own outcome.
        if error is RunLocked {
            logger.notice("metrics left as they are: this run was refused, the run holding the schema records its own")
            return
        }
        let summary = summary ?? (error as? RejectRatioExceeded)?.summary
        let exitCode = error.map { ($0 as? ExitCodeProviding)?.exitCode.rawValue ?? ExitCode.failure.rawValue } ?? 0
        let finishedAt = Date()
        if !settings.metricsTextfile.isEmpty {
            let file = MetricsTextfile(template: settings.metricsTextfile, pipeline: pipeline)
            do {
                try file.write(summary: summary, succeeded: error == nil, exitCode: exitCode, finishedAt: finishedAt)
            } catch {
                logger.error("cannot write the metrics textfile", metadata: ["file": .string(file.path), "error": .string("\(error)")])
            }
        }
        if !settings.metricsPushgateway.isEmpty {
            // POST replaces only the series it carries: a failed run leaves out the last-success time,
            // so the gateway keeps the previous one and "time since the last success" keeps rising.
            let text = exposition(pipeline: pipeline, summary: summary, succeeded: error == nil, exitCode: exitCode, finishedAt: finishedAt,
                                  lastSuccess: error == nil ? finishedAt.timeIntervalSince1970 : nil)
            do {
                try Pushgateway(base: settings.metricsPushgateway).push(text, job: "khareetaty", pipeline: pipeline)
            } catch {
                logger.error("cannot push the metrics", metadata: ["pushgateway": .string(Pushgateway.redacted(settings.metricsPushgateway)), "error": .string("\(error)")])
            }
        }
    }
}
