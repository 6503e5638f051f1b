import Foundation
import Logging

extension RunSummary {
    /// What the metrics carry of this summary.
    var counts: RunCounts {
        RunCounts(durationS: durationS,
                  rows: [("read", rowsRead), ("loaded", rowsLoaded), ("rejected", rowsRejected), ("duplicate", rowsDuplicate), ("unassigned", rowsUnassigned)],
                  rejectsByReason: rejectsByReason, geocodeMethods: geocodeMethods, stageSeconds: stageSeconds)
    }
}

extension MetricsTextfile {
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
        let counts = (summary ?? (error as? RejectRatioExceeded)?.summary)?.counts
        let exitCode = error.map { ($0 as? ExitCodeProviding)?.exitCode.rawValue ?? ExitCode.failure.rawValue } ?? 0
        let finishedAt = Date()
        if !settings.metricsTextfile.isEmpty {
            let file = MetricsTextfile(template: settings.metricsTextfile, pipeline: pipeline)
            do {
                try file.write(counts: counts, succeeded: error == nil, exitCode: exitCode, finishedAt: finishedAt)
            } catch {
                logger.error("cannot write the metrics textfile", metadata: ["file": .string(file.path), "error": .string("\(error)")])
            }
        }
        if !settings.metricsPushgateway.isEmpty {
            // POST replaces only the series it carries: a failed run leaves out the last-success time,
            // so the gateway keeps the previous one and "time since the last success" keeps rising.
            let text = exposition(pipeline: pipeline, counts: counts, succeeded: error == nil, exitCode: exitCode, finishedAt: finishedAt,
                                  lastSuccess: error == nil ? finishedAt.timeIntervalSince1970 : nil)
            do {
                try Pushgateway(base: settings.metricsPushgateway).push(text, job: "khareetaty", pipeline: pipeline)
            } catch {
                logger.error("cannot push the metrics", metadata: ["pushgateway": .string(Pushgateway.redacted(settings.metricsPushgateway)), "error": .string("\(error)")])
            }
        }
    }
}
