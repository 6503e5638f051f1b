import Foundation
import Logging

/// What `khareetaty run` does from start to end: choose the inputs (the files given, else every
/// settled file in the inbox, else the pipeline's own), run the pipeline, record the metrics. A
/// run that fails still has a summary (what it got through, its error and exit code): it comes
/// back inside `JobFailed`.
public struct NightlyJob {
    public var settings: Settings
    public var pipeline: PipelineDefinition
    /// Files given on the command line (instead of the inbox and the pipeline's inputs).
    public var files: [String] = []
    public var dryRun = false
    public var force = false
    public var waitSeconds = 0
    public var asOfDate: String?

    public init(settings: Settings, pipeline: PipelineDefinition) {
        self.settings = settings
        self.pipeline = pipeline
    }

    /// A failed run: its summary (status `failed`, the error and the exit code) and the error itself.
    public struct JobFailed: Error {
        public let summary: RunSummary
        public let underlying: any Error
    }

    public func run(logger: Logger) throws -> RunSummary {
        var definition = pipeline
        let inbox = Inbox(settings: settings)
        if !files.isEmpty {
            definition.inputs = files.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        } else if let inbox {
            definition.inputs = try inbox.files(logger: logger)
            if definition.inputs.isEmpty {
                logger.notice("inbox is empty: nothing to load", metadata: ["inbox": .string(inbox.directory)])
            }
        }
        if definition.inputs.isEmpty && inbox == nil {
            throw ConfigError(key: "inputs", value: nil, source: definition.path,
                              problem: "no inputs: list them in the pipeline file, give files on the command line, or configure inbox.dir")
        }
        var runner = PipelineRunner(settings: settings, pipeline: definition, logger: logger)
        runner.inbox = inbox
        runner.dryRun = dryRun
        runner.force = force
        runner.waitSeconds = waitSeconds
        runner.asOfDate = asOfDate
        let runID = UUID().uuidString.lowercased()
        runner.runID = runID
        do {
            let summary = try runner.run()
            if !dryRun { MetricsTextfile.record(settings, pipeline: definition.name, summary: summary, error: nil, logger: logger) }
            return summary
        } catch {
            if !dryRun { MetricsTextfile.record(settings, pipeline: definition.name, summary: nil, error: error, logger: logger) }
            var failed = (error as? RejectRatioExceeded)?.summary ?? RunSummary(runID: runID, status: "failed", pipeline: definition.name)
            failed.status = "failed"
            failed.dryRun = dryRun
            failed.error = String(describing: error)
            failed.exitCode = Int((error as? ExitCodeProviding)?.exitCode.rawValue ?? ExitCode.failure.rawValue)
            throw JobFailed(summary: failed, underlying: error)
        }
    }
}
