import ArgumentParser
import Foundation
import KhareetatyCore
import Logging

struct Backfill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute the derived tables for a range of dates from the stored incidents.",
        discussion: """
            Recomputes district_daily and district_trends for every date of the range, and the maps the pipeline's
            aggregate.tables names (hotspot_grids/hotspot_cells, emerging_hotspots) for the dates aggregate.backfill_grids
            picks: monthly (default: each month's last date and the range's), weekly, or daily.
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

    @OptionGroup var pipelineOptions: PipelineOptions

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
        let (settings, definition) = try pipelineOptions.loadRecorded(global, from: from, to: to)
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
