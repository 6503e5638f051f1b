import ArgumentParser
import Foundation
import KhareetatyCore
import Logging

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the nightly pipeline: load the pipeline's inputs and refresh daily counts.",
        discussion: """
            Reads every input the pipeline file lists (or the files given), cleans and geocodes each record, and
            writes incidents, rejects, districts and daily counts in one transaction. Every record read ends up
            loaded, rejected with a reason, or counted as a duplicate; the summary proves the sum.

            One run per schema at a time: a second run exits 75 naming the run that holds it (or waits with
            --wait). A file a succeeded run already loaded (same SHA-256) is skipped unless --force.

            \(exitCodesHelp)
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("Pipeline file; default: the `pipeline` setting.", valueName: "file"))
    var pipeline: String?

    @Option(name: .long, help: ArgumentHelp("Summary format on stdout: text or json.", valueName: "format"))
    var summary: SummaryFormat = .text

    @Flag(name: .long, help: "Do everything, then roll back instead of committing.")
    var dryRun = false

    @Flag(name: .long, help: "Load inputs even if a succeeded run already loaded the same file (same SHA-256).")
    var force = false

    @Option(name: .long, help: ArgumentHelp("If another run holds the schema, wait up to this many seconds (default: exit 75 at once).", valueName: "seconds"))
    var wait = 0

    @Option(name: .long, help: ArgumentHelp("The date the run reports on, YYYY-MM-DD, or `latest` (the last day with incidents once loaded; default: yesterday in the pipeline's time zone).", valueName: "date"))
    var date: String?

    func validate() throws {
        if let date, !PipelineRunner.isValidDate(date) {
            throw ValidationError("--date must be a date YYYY-MM-DD or latest, not \(date)")
        }
    }

    @Argument(help: ArgumentHelp("Input files to load instead of the pipeline's `inputs` (CSV or XML, optionally .gz).", valueName: "file"))
    var inputs: [String] = []

    enum SummaryFormat: String, ExpressibleByArgument { case text, json }

    func run() throws {
        var settings = try global.settings()
        if let pipeline { settings.pipelinePath = pipeline }
        var definition = try PipelineDefinition.load(path: settings.pipelinePath)
        let logger = Logger(label: "khareetaty")
        Cancellation.install(logger: logger)
        let inbox = Inbox(settings: settings)
        if !inputs.isEmpty {
            definition.inputs = inputs.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
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
        runner.waitSeconds = wait
        runner.asOfDate = date
        runner.runID = UUID().uuidString.lowercased()
        let result: RunSummary
        do {
            result = try runner.run()
        } catch {
            if !dryRun { MetricsTextfile.record(settings, pipeline: definition.name, summary: nil, error: error, logger: logger) }
            if summary == .json {
                // A failed run prints its summary too: what it got through, the error and the exit code.
                var failed = (error as? RejectRatioExceeded)?.summary ?? RunSummary(runID: runner.runID!, status: "failed", pipeline: definition.name)
                failed.status = "failed"
                failed.dryRun = dryRun
                failed.error = String(describing: error)
                failed.exitCode = Int((error as? ExitCodeProviding)?.exitCode.rawValue ?? ExitCode.failure.rawValue)
                print(failed.json())
            }
            throw error
        }
        if !dryRun { MetricsTextfile.record(settings, pipeline: definition.name, summary: result, error: nil, logger: logger) }
        print(summary == .json ? result.json() : result.text)
    }
}
