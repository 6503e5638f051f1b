import Foundation
import Logging
import Prometheus

/// The numbers of a run the metrics carry (a run's summary gives them: Run/RunMetrics.swift).
public struct RunCounts: Sendable {
    public var durationS: Double
    /// (fate, rows): read, loaded, rejected, duplicate, unassigned.
    public var rows: [(String, Int)]
    public var rejectsByReason: [String: Int]
    public var geocodeMethods: [String: Int]
    public var stageSeconds: [String: Double]
}

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
    public func write(counts: RunCounts?, succeeded: Bool, exitCode: Int32, finishedAt: Date = Date()) throws {
        let now = finishedAt.timeIntervalSince1970
        let text = Self.exposition(pipeline: pipeline, counts: counts, succeeded: succeeded, exitCode: exitCode, finishedAt: finishedAt,
                                   lastSuccess: succeeded ? now : previousLastSuccess())
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    /// The Prometheus text exposition of a finished run; `lastSuccess` nil leaves that series out.
    static func exposition(pipeline: String, counts: RunCounts?, succeeded: Bool, exitCode: Int32, finishedAt: Date, lastSuccess: Double?) -> String {
        let registry = PrometheusCollectorRegistry()
        func gauge(_ name: String, _ value: Double, _ labels: [(String, String)] = []) {
            registry.makeGauge(name: name, labels: [("pipeline", pipeline)] + labels, help: help[name] ?? "").set(value)
        }
        gauge("khareetaty_last_run_success", succeeded ? 1 : 0)
        gauge("khareetaty_last_run_exit_code", Double(exitCode))
        gauge("khareetaty_last_run_timestamp_seconds", finishedAt.timeIntervalSince1970)
        if let lastSuccess { gauge(Self.lastSuccess, lastSuccess) }
        if let counts {
            gauge("khareetaty_last_run_duration_seconds", counts.durationS)
            for (fate, n) in counts.rows { gauge("khareetaty_last_run_rows", Double(n), [("fate", fate)]) }
            for (reason, n) in counts.rejectsByReason { gauge("khareetaty_last_run_rejected_rows", Double(n), [("reason", reason)]) }
            for (method, n) in counts.geocodeMethods { gauge("khareetaty_last_run_geocoded_rows", Double(n), [("method", method)]) }
            for (stage, seconds) in counts.stageSeconds { gauge("khareetaty_last_run_stage_seconds", seconds, [("stage", stage)]) }
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
}
