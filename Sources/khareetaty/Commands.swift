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

struct Backfill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute the derived tables for a range of dates from the stored incidents.",
        discussion: """
            Recomputes district_daily and, as of every date of the range, each table the pipeline's aggregate.tables
            names (district_trends, hotspot_grids/hotspot_cells, emerging_hotspots).
            Works in chunks of one calendar month, each in its own transaction. An interrupted backfill, run again
            with the same --from and --to, continues at the first unfinished chunk; a chunk finished before a later
            load is redone (--recompute redoes every chunk). Shows a progress bar on a
            terminal and one log line per chunk otherwise. Takes the same per-schema lock as `run`.

            On several processes or hosts: `backfill --from D1 --to D2 --enqueue` queues the range's chunks in
            backfill_chunks, and every `backfill --worker` process claims open chunks (SELECT … FOR UPDATE SKIP
            LOCKED) until none is left. A worker that dies gives its chunk back; another one takes it.

            \(exitCodesHelp)
            """
    )
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: ArgumentHelp("First local date, YYYY-MM-DD.", valueName: "date")) var from: String?
    @Option(name: .long, help: ArgumentHelp("Last local date, YYYY-MM-DD (inclusive).", valueName: "date")) var to: String?
    @Option(name: .long, help: ArgumentHelp("If another run holds the schema, wait up to this many seconds.", valueName: "seconds"))
    var wait = 0

    @Option(name: .long, help: ArgumentHelp("Pipeline file for the input files; default: the `pipeline` setting.", valueName: "file"))
    var pipeline: String?

    @Flag(name: .long, help: "Queue the range's chunks for workers instead of computing them here.")
    var enqueue = false

    @Flag(name: .long, help: "Work on queued chunks (any range) until none is left; no --from/--to.")
    var worker = false

    @Flag(name: .long, help: "Redo every chunk of the range, even those finished after the latest load.")
    var recompute = false

    @Argument(help: ArgumentHelp("Input files to load first (as a backfill run, even if loaded before), e.g. a corrected export.", valueName: "file"))
    var inputs: [String] = []

    func validate() throws {
        if worker {
            guard from == nil, to == nil, !enqueue, !recompute, inputs.isEmpty else {
                throw ValidationError("--worker takes its chunks from the queue: no --from, --to, --enqueue, --recompute or files")
            }
        } else if from == nil || to == nil {
            throw ValidationError("--from and --to are required (or --worker)")
        }
    }

    func run() throws {
        var settings = try global.settings()
        if let pipeline { settings.pipelinePath = pipeline }
        let definition = try PipelineDefinition.load(path: settings.pipelinePath)
        let logger = Logger(label: "khareetaty")
        Cancellation.install(logger: logger)
        if worker {
            let summary = try KhareetatyCore.Backfill.work(settings: settings, pipeline: definition, logger: logger)
            print("backfill worker \(summary.runID) succeeded: \(summary.chunks) chunks")
            return
        }
        if !inputs.isEmpty {
            var loading = definition
            loading.inputs = inputs.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            var runner = PipelineRunner(settings: settings, pipeline: loading, logger: logger)
            runner.kind = .backfill
            runner.force = true
            runner.waitSeconds = wait
            print(try runner.run().text)
        }
        var backfill = try KhareetatyCore.Backfill(from: from!, to: to!, settings: settings, pipeline: definition, logger: logger)
        backfill.waitSeconds = wait
        backfill.recompute = recompute
        if enqueue {
            print("backfill \(from!)..\(to!): \(try backfill.enqueue()) chunks open in the queue; start workers with `khareetaty backfill --worker`")
            return
        }
        let summary = try backfill.run()
        print("backfill \(summary.runID) succeeded: \(summary.days) days in \(summary.chunks) chunks (\(summary.skipped) already done, \(summary.stale) redone as stale)")
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay fixture directories into scratch schemas and compare the expected tables.",
        discussion: """
            Each DIR holds pipeline.yaml (with its inputs) and expected/<table>.csv files whose headers name the
            columns to compare. The replay migrates a fresh scratch schema, runs the pipeline, compares each table
            as a set of rows (order-independent; numbers within 1e-9 relative; timestamps in UTC), prints a diff,
            and drops the scratch schema. Exit 1 if any table differs. --update rewrites the expected files from
            what the run produced instead.

            \(exitCodesHelp)
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Fixture directories.", valueName: "dir")) var directories: [String]
    @Flag(name: .long, help: "Rewrite expected/*.csv from the actual tables (review the diff before committing).")
    var update = false

    func run() throws {
        let settings = try global.settings()
        var failed: [String] = []
        for directory in directories {
            let outcome = try KhareetatyCore.Replay(directory: directory, settings: settings, logger: Logger(label: "khareetaty")).run(update: update)
            print("replay \(directory): \(update ? "expected files updated" : outcome.matches ? "matches" : "DIFFERS")")
            print(outcome.report)
            if !outcome.matches { failed.append(directory) }
        }
        if let first = failed.first { throw KhareetatyCore.Replay.Mismatch(directory: failed.count == 1 ? first : failed.joined(separator: ", ")) }
    }
}


struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the last runs from the ledger (pipeline_runs), newest first.",
        discussion: """
            One line per run: when it started (UTC), its id, kind, status, seconds, as-of date, the accounting and
            the first line of its error. A run still `running` with no process behind it is marked failed (stale)
            by the next run that takes the schema's lock.

            \(exitCodesHelp)
            """
    )
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: ArgumentHelp("How many runs to show.", valueName: "n")) var last = 10
    @Flag(name: .long, help: "JSON (an array of objects) instead of the table.") var json = false

    func validate() throws {
        guard (1...10_000).contains(last) else { throw ValidationError("--last must be between 1 and 10000") }
    }

    func run() throws {
        let settings = try global.settings()
        let db = try Database.connect(settings)
        try Migrator(connection: db, schema: settings.schema).requireCurrent()
        let entries = try RunHistory.last(last, db: db, schema: settings.schema)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
        } else {
            print(entries.isEmpty ? "no runs yet in schema \(settings.schema)" : RunHistory.table(entries))
        }
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render the morning report for a date: one self-contained HTML file.",
        discussion: """
            A map of the areas coloured by the change of the last 7 days against the baseline, with the significant
            Gi* hot- and cold-spot cells and the emerging hot spots over it; the top areas by count and by change with
            12-week sparklines and their trend; the emerging hot-spot patterns; and the accounting, inputs and
            checksums of the run that reported on that date. No script, no network request: it opens from disk or
            from a mail. With report.dir set, every committed run writes its own.

            \(exitCodesHelp)
            """
    )
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: ArgumentHelp("Pipeline file (boundaries and names); default: the `pipeline` setting.", valueName: "file"))
    var pipeline: String?
    @Option(name: .long, help: ArgumentHelp("The date, YYYY-MM-DD, or `latest` (the last day with incidents; default: yesterday in the pipeline's time zone).", valueName: "date"))
    var date: String?
    @Option(name: .long, help: ArgumentHelp("Output file (default: khareetaty-report-DATE.html).", valueName: "file"))
    var out: String?

    func validate() throws {
        if let date, !PipelineRunner.isValidDate(date) { throw ValidationError("--date must be a date YYYY-MM-DD or latest, not \(date)") }
    }

    func run() throws {
        var settings = try global.settings()
        if let pipeline { settings.pipelinePath = pipeline }
        let definition = try PipelineDefinition.load(path: settings.pipelinePath)
        var runner = PipelineRunner(settings: settings, pipeline: definition, logger: Logger(label: "khareetaty"))
        runner.asOfDate = date
        let layer = try DistrictLayer.load(definition.boundaries)
        let db = try Database.connect(settings)
        try Migrator(connection: db, schema: settings.schema).requireCurrent()
        let asOf = date == PipelineRunner.latest
            ? try PipelineRunner.latestIncidentDate(db: db, schema: settings.schema) ?? runner.effectiveAsOfDate()
            : runner.effectiveAsOfDate()
        let path = out ?? "khareetaty-report-\(asOf).html"
        try MorningReport.load(db: db, schema: settings.schema, asOf: asOf, layer: layer).write(to: path)
        print(path)
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the schema: apply pending migrations, each in its own transaction.",
        discussion: """
            Migrations are versioned and recorded in <schema>.schema_migrations. Running it again is a no-op.
            It refuses a schema migrated by a newer khareetaty, or one whose applied migrations were edited.

            \(exitCodesHelp)
            """
    )
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let settings = try global.settings()
        let db = try Database.connect(settings)
        let applied = try Migrator(connection: db, schema: settings.schema).migrate()
        if applied.isEmpty {
            print("schema \(settings.schema) is up to date (version \(Migration.latestVersion))")
        } else {
            for migration in applied { print("applied \(migration.version): \(migration.name)") }
            print("schema \(settings.schema) is at version \(Migration.latestVersion)")
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify config, pipeline, boundaries, database, schema version and privileges.",
        discussion: "Prints one line per check; on a failure exits 2 (configuration, privileges, boundaries), 75 (database unreachable: try later) or 1, naming what failed.\n\n\(exitCodesHelp)"
    )
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let loader = global.loader()
        let settings = try global.settings()
        let results = Checks(settings: settings, configFile: loader.configFile()?.path).run()
        for result in results {
            print("\(result.ok ? "ok  " : "FAIL")  \(result.name.padding(toLength: 10, withPad: " ", startingAt: 0))  \(result.detail)")
        }
        let failed = results.filter { !$0.ok }.map(\.name)
        if !failed.isEmpty { throw ChecksFailed(names: failed, exitCode: Checks.exitCode(of: results)) }
    }
}

struct ChecksFailed: ExitCodeProviding, CustomStringConvertible {
    let names: [String]
    let exitCode: ExitCode
    var description: String { "check failed: " + names.joined(separator: ", ") }
}

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect the effective configuration.",
        subcommands: [Show.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every setting with its effective value and where it came from (secrets redacted).",
            discussion: "\(exitCodesHelp)"
        )
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let settings = try global.settings()
            print(settings.rendered(environment: ProcessInfo.processInfo.environment))
        }
    }
}
