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

    @OptionGroup var pipelineOptions: PipelineOptions

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
        let (settings, definition) = try pipelineOptions.load(global)
        let logger = Logger(label: "khareetaty")
        Cancellation.install(logger: logger)
        var job = NightlyJob(settings: settings, pipeline: definition)
        job.files = inputs
        job.dryRun = dryRun
        job.force = force
        job.waitSeconds = wait
        job.asOfDate = date
        let result: RunSummary
        do {
            result = try job.run(logger: logger)
        } catch let failed as NightlyJob.JobFailed {
            if summary == .json { print(failed.summary.json()) }  // a failed run prints its summary too
            throw failed.underlying
        }
        print(summary == .json ? result.json() : result.text)
    }
}
