import Analytics
import Foundation
import Readers
import Geo
import Logging
import Postgres

/// Runs a pipeline end to end: ingest → clean → geocode → load (+ daily counts), with the whole
/// effect committed in one transaction or not at all.
public struct PipelineRunner {
    /// What the ledger row says the run was: `run` (`khareetaty run`, by cron or by hand), a
    /// `backfill`'s load of corrected files, or a fixture `replay`.
    public enum Kind: String, Sendable { case run, backfill, replay }

    public var settings: Settings
    public var pipeline: PipelineDefinition
    public var kind: Kind = .run
    public var dryRun = false
    /// Seconds to wait for another run on the same schema to finish (0: fail at once, exit 75).
    public var waitSeconds = 0
    /// Load inputs even if a succeeded run already loaded a file with the same SHA-256.
    public var force = false
    /// When inputs come from an inbox: archive them after the commit, quarantine an unreadable one.
    public var inbox: Inbox?
    /// The local date the run reports on (YYYY-MM-DD, or `latest`: the last day with incidents once
    /// the run's inputs are loaded); nil: yesterday in the pipeline's zone.
    public var asOfDate: String?
    public static let latest = "latest"
    /// The run's id; nil: a fresh one for each run. The CLI sets it, to name the run when it fails.
    public var runID: String?

    /// Whether `text` is a valid as-of date (`--date`): a calendar date written YYYY-MM-DD, or `latest`.
    public static func isValidDate(_ text: String) -> Bool { text == latest || CivilDate.parseISODate(text) != nil }

    /// The last local date with a stored incident, if any (what `--date latest` reports on).
    public static func latestIncidentDate(db: any Queryable, schema: String) throws -> String? {
        try db.query("SELECT max(local_date)::text FROM \(quoteIdentifier(schema)).incidents").scalar ?? nil
    }

    /// When no incident of day precision falls in the 7 days to `asOf` but some exist: what to run.
    static func emptyWindowAdvice(db: any Queryable, schema: String, asOf: String) throws -> String? {
        let s = quoteIdentifier(schema)
        guard try db.query("""
            SELECT NOT EXISTS (SELECT 1 FROM \(s).incidents WHERE local_date BETWEEN $1::date - 6 AND $1::date AND time_precision = 'day')
            """, [asOf]).scalar == "t",
              let span = try db.query("SELECT min(local_date)::text, max(local_date)::text FROM \(s).incidents WHERE time_precision = 'day'").rows.first,
              let first = span[0], let last = span[1] else { return nil }
        return "no incidents in the 7 days to \(asOf), so its trends and hot spots are empty; the incidents run from \(first) to \(last): "
            + "run `khareetaty run --date \(last)` (or `--date latest`) for the last day, `khareetaty backfill --from \(first) --to \(last)` for every day"
    }

    /// `asOfDate`, or yesterday in the pipeline's zone.
    public func effectiveAsOfDate(now: Date = Date()) -> String {
        if let asOfDate, asOfDate != Self.latest { return asOfDate }
        return CivilDate.yesterday(in: pipeline.timeZone, now: now)
    }
    public var logger: Logger

    public init(settings: Settings, pipeline: PipelineDefinition, logger: Logger) {
        self.settings = settings
        self.pipeline = pipeline
        self.logger = logger
    }

    /// A dry run rolls back by throwing this through `withTransaction`.
    private struct DryRunRollback: Error { let summary: RunSummary }

    /// The accounting did not add up: never commit such a run.
    struct AccountingError: ExitCodeProviding, CustomStringConvertible {
        let summary: RunSummary
        var exitCode: ExitCode { .failure }
        var description: String {
            "accounting does not add up: read \(summary.rowsRead) ≠ loaded \(summary.rowsLoaded) + rejected \(summary.rowsRejected) + duplicates \(summary.rowsDuplicate)"
        }
    }

    public func run() throws -> RunSummary {
        let started = Date()
        let runID = self.runID ?? UUID().uuidString.lowercased()
        var logger = logger
        logger[metadataKey: "run_id"] = .string(runID)

        // Each input once, each a regular file that exists: found before anything starts (exit 66).
        let inputs = try InputCheck.regularFiles(pipeline.inputs)
        if inputs.count < pipeline.inputs.count {
            logger.notice("a file was given more than once: it is read once", metadata: ["stage": "ingest", "given": .stringConvertible(pipeline.inputs.count), "files": .stringConvertible(inputs.count)])
        }
        // With dedup: none an incident's id is its file's name and line: two inputs of one name
        // would take each other's ids, and one's records would count as the other's duplicates.
        if pipeline.mapping.identity == .record {
            var byName: [String: String] = [:]
            for path in inputs {
                let name = (path as NSString).lastPathComponent
                if let other = byName[name] {
                    throw ConfigError(key: "dedup", value: "none", source: pipeline.path,
                                      problem: "two inputs are named \(name) (\(other) and \(path)): with dedup: none an incident's id is its file's name and line, so load them in separate runs or rename one")
                }
                byName[name] = path
            }
        }

        logger.info("loading boundaries", metadata: ["stage": "geocode", "file": .string(pipeline.boundaries.districtsFile)])
        let layer = try DistrictLayer.load(pipeline.boundaries)
        let report = BoundaryReport(layer: layer)
        if !report.isClean { logger.warning("boundary problems (first area in file order wins)", metadata: ["stage": "geocode", "report": .string(report.summary)]) }

        // A dry run leaves every table as it was: no ledger row, no stale rows marked, no commit.
        let scope = try RunScope.open(settings: settings, runID: runID, kind: kind.rawValue, label: pipeline.path, pipelineFile: pipeline.path,
                                      lock: .exclusive(wait: waitSeconds), record: !dryRun, logger: logger)
        defer { scope.close() }
        let (db, ledger) = (scope.db, scope.ledger)

        var summary = RunSummary(runID: runID, status: "succeeded", pipeline: pipeline.name)
        summary.dryRun = dryRun
        summary.pipelineSHA256 = try pipeline.effectiveSHA256()
        summary.asOfDate = effectiveAsOfDate()
        var rejectRatioExceeded = false
        do {
            try scope.run { try db.withTransaction { db in
                try Cancellation.check()
                try DistrictSync.replace(db: db, schema: settings.schema, layer: layer)
                // One load for all inputs: its finish comes after the last.
                var load = LoadStage(store: try IncidentStore(db: db, schema: settings.schema, runID: runID))
                for path in inputs {
                    summary.inputs.append(try ingest(path, layer: layer, load: &load, summary: &summary, logger: logger))
                }
                // What was read must be what was fingerprinted: a file still being written, or replaced,
                // rolls the run back (exit 75) and stays for the next run.
                for input in summary.inputs {
                    let now = try InputFile.fingerprint(path: input.path)
                    guard now.sha256 == input.sha256, now.bytes == input.bytes else {
                        throw InputChanged(file: input.path, before: (input.sha256, input.bytes), after: now)
                    }
                }
                summary.durationS = Date().timeIntervalSince(started)
                if summary.rejectRatio > pipeline.clean.maxRejectRatio {
                    // Record the rejects and the failure, but not one incident: the operator sees why.
                    rejectRatioExceeded = true
                    summary.status = "failed"
                    if dryRun { throw DryRunRollback(summary: summary) }
                    try load.abandon()
                    try ledger.finish(db, summary, error: RejectRatioExceeded(summary: summary, limit: pipeline.clean.maxRejectRatio).description)
                    return
                }
                FaultPoint.beforeFinish.reach()
                try Cancellation.check()
                let finishStart = Date()
                try load.finish()
                let perFile = load.perFile
                summary.rowsMonthOnly = try load.store.loadedMonthOnly()
                try DailyCounts.rebuild(db: db, schema: settings.schema, daysTable: IncidentStore.touchedDays,
                                        distributed: load.store.distributed, monthOnlyStaged: load.store.stagedMonthOnly > 0,
                                        counted: load.store.newMonthCounts)
                summary.stageSeconds["finish"] = Date().timeIntervalSince(finishStart)
                if asOfDate == Self.latest, let latest = try Self.latestIncidentDate(db: db, schema: settings.schema) {
                    summary.asOfDate = latest
                }
                let aggregateStart = Date()
                let derived = try DerivedTables.rebuild(db: db, schema: settings.schema, asOf: summary.asOfDate, layer: layer,
                                                        settings: pipeline.aggregate, cache: HotspotAnalysis.GridCache())
                summary.trendRows = derived.trendRows
                summary.hotspotCells = derived.hotspotCells
                summary.emergingCells = derived.emergingCells
                summary.hotspotAnalyses = derived.analyses.map(\.summary)
                summary.advice = try Self.emptyWindowAdvice(db: db, schema: settings.schema, asOf: summary.asOfDate)
                if let advice = summary.advice { logger.warning("nothing to aggregate", metadata: ["stage": "aggregate", "advice": .string(advice)]) }
                summary.stageSeconds["aggregate"] = Date().timeIntervalSince(aggregateStart)
                for i in summary.inputs.indices {
                    let counts = perFile[summary.inputs[i].path] ?? IncidentStore.FileCounts()
                    summary.inputs[i].rowsLoaded = counts.loaded
                    summary.inputs[i].rowsDuplicate = counts.duplicates
                    summary.rowsLoaded += counts.loaded
                    summary.rowsDuplicate += counts.duplicates
                    summary.rowsUnassigned += counts.unassigned
                    for (method, n) in counts.methods { summary.geocodeMethods[method, default: 0] += n }
                }
                summary.durationS = Date().timeIntervalSince(started)
                guard summary.accountingHolds else { throw AccountingError(summary: summary) }
                try ledger.finish(db, summary, error: nil)
                if dryRun { throw DryRunRollback(summary: summary) }
                FaultPoint.beforeCommit.reach()
                try Cancellation.check()  // the last moment a signal stops the run; after the commit it is done
            } }
        } catch let rollback as DryRunRollback {
            if rejectRatioExceeded { throw RejectRatioExceeded(summary: rollback.summary, limit: pipeline.clean.maxRejectRatio) }
            return rollback.summary
        } catch let inputError as InputError {
            // The scope has recorded the failure; the file that could not be read leaves the inbox.
            if !dryRun { inbox?.quarantine(inputError.file, logger: logger) }
            throw inputError
        }
        if rejectRatioExceeded { throw RejectRatioExceeded(summary: summary, limit: pipeline.clean.maxRejectRatio) }
        inbox?.archive(summary.inputs.map { ($0.path, $0.sha256, $0.bytes) }, logger: logger)
        logger.info("run committed", metadata: ["stage": "load", "rows_loaded": .stringConvertible(summary.rowsLoaded)])
        if !settings.reportDir.isEmpty {
            // The morning report of the night; a report that cannot be written is logged, the run stands.
            let path = URL(fileURLWithPath: settings.reportDir).appendingPathComponent("khareetaty-\(pipeline.name)-\(summary.asOfDate).html").path
            do {
                try MorningReport.load(db: db, schema: settings.schema, asOf: summary.asOfDate, layer: layer,
                                       presentation: pipeline.report, timeZone: pipeline.timeZone).write(to: path)
                logger.info("morning report written", metadata: ["stage": "report", "file": .string(path)])
            } catch {
                logger.error("cannot write the morning report", metadata: ["stage": "report", "file": .string(path), "error": .string("\(error)")])
            }
        }
        return summary
    }

    /// Streams one input through ingest → clean → geocode (on a producer thread) → load (on this
    /// thread, which owns the connection), batch by batch, so parsing overlaps loading.
    private func ingest(_ path: String, layer: DistrictLayer, load: inout LoadStage, summary: inout RunSummary,
                        logger: Logger) throws -> RunSummary.Input {
        let (sha256, bytes) = try InputFile.fingerprint(path: path)
        var input = RunSummary.Input(path: path, bytes: bytes, sha256: sha256)
        if !force, let earlier = try load.store.succeededRun(loading: sha256) {
            input.skipped = "already loaded by run \(earlier) (--force loads it again)"
            logger.notice("skipping an input loaded before", metadata: ["stage": "ingest", "file": .string(path), "run": .string(earlier)])
            return input
        }
        logger.info("reading", metadata: ["stage": "ingest", "file": .string(path), "sha256": .string(sha256)])

        let pipeline = self.pipeline, batchSize = settings.batchSize
        let chosen = ChosenColumns()
        // ingest → clean → geocode on a producer thread; batches cross to this thread through a bounded queue.
        let pipe = BatchPipe<StagedBatch<PlacedBatch>> { emit in
            let source: RecordSource = switch pipeline.format.resolved(for: path) {
            case .xml: try XMLFeedReader(path: path)
            default: try CSVReader(path: path, delimiter: pipeline.delimiter, legacyEncoding: pipeline.legacyEncoding)
            }
            let clean = try CleanStage(pipeline: pipeline, header: source.header, file: path)
            chosen.set(clean.chosenColumns)
            var stages = clean.then(GeocodeStage(layer: layer))
            try source.stream(batchesOf: batchSize, through: &stages, emit: emit)
        }
        defer { pipe.close() }

        // A bar on a terminal (bytes of the file, rows and rows/s, time left); nothing in cron.
        let progress = Progress(total: Double(input.bytes), unit: "bytes", logger: logger)
        defer { progress.finish() }
        let started = Date(), label = URL(fileURLWithPath: path).lastPathComponent
        while let batch = try pipe.next() {
            try Cancellation.check()
            summary.stageSeconds["ingest_clean_geocode", default: 0] += batch.seconds
            let loadStart = Date()
            let output = try load.process(batch.output)
            summary.stageSeconds["load", default: 0] += Date().timeIntervalSince(loadStart)
            if input.rowsRead > 0 { FaultPoint.midCopy.reach() }
            input.rowsRead += batch.rowsRead
            let rate = Double(input.rowsRead) / max(Date().timeIntervalSince(started), 1e-3)
            progress.advance(to: Double(batch.bytesConsumed), label: label, detail: String(format: "%d rows  %.0f rows/s", input.rowsRead, rate))
            input.rowsRejected += output.rejects.count
            for reject in output.rejects {
                summary.rejectsByReason[reject.reason.rawValue, default: 0] += 1
                if summary.firstRejects[reject.reason.rawValue] == nil {
                    summary.firstRejects[reject.reason.rawValue] = "\(reject.sourceFile) line \(reject.sourceLine)"
                }
            }
            for placed in output.incidents { for flag in placed.incident.flags { summary.flags[flag.rawValue, default: 0] += 1 } }
        }
        summary.rowsRead += input.rowsRead
        summary.rowsRejected += input.rowsRejected
        input.columns = chosen.get()
        if let columns = input.columns, columns.contains(where: { $0.key != $0.value }) {
            logger.info("columns read", metadata: ["stage": "clean", "file": .string(path),
                                                   "columns": .string(columns.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: ", "))])
        }
        return input
    }
}

/// The header names the producer thread's clean stage chose, handed to the run's thread.
private final class ChosenColumns: @unchecked Sendable {
    private let lock = NSLock()
    private var columns: [String: String]?
    func set(_ value: [String: String]) { lock.withLock { columns = value } }
    func get() -> [String: String]? { lock.withLock { columns } }
}

/// Too large a share of the run's records were rejected: exit 65, nothing but rejects recorded.
public struct RejectRatioExceeded: ExitCodeProviding, CustomStringConvertible {
    public let summary: RunSummary
    public let limit: Double
    public var exitCode: ExitCode { .dataError }
    public var description: String {
        String(format: "%d of %d records rejected (%.1f%%), above the pipeline's limit of %.1f%% (clean.max_reject_ratio): "
               + "nothing was loaded; the rejects are in incident_rejects for run %@",
               summary.rowsRejected, summary.rowsRead, summary.rejectRatio * 100, limit * 100, summary.runID)
    }
}

/// Keeps the `districts` table equal to the pipeline's boundary layer (and its gazetteer's Arabic names).
enum DistrictSync {
    static func replace(db: Transaction, schema: String, layer: DistrictLayer) throws {
        let table = quoteIdentifier(schema) + ".districts"
        try db.execute("DELETE FROM \(table)")
        let rows = layer.districts.enumerated().map { index, district in
            Row(district: district, nameAr: layer.gazetteer.arabicNames[index],
                governorateNameAr: district.governorateCode.flatMap { layer.gazetteer.governorateArabicNames[$0] })
        }
        try db.copy(rows, into: table, layout: layout)
    }

    /// A `districts` row: one district of the layer and its names in Arabic.
    struct Row {
        let district: District
        let nameAr: String?
        let governorateNameAr: String?
    }

    static let layout = CopyLayout<Row>([
        .init("code") { $0.district.code },
        .init("name") { $0.district.name },
        .init("name_ar") { $0.nameAr },
        .init("governorate_code") { $0.district.governorateCode },
        .init("governorate_name") { $0.district.governorateName },
        .init("governorate_name_ar") { $0.governorateNameAr },
        .init("area_km2") { (($0.district.areaKm2 * 1000).rounded() / 1000) as Double? },
        .init("geometry_geojson") { $0.district.geometry.geoJSON },
    ])
}

extension BoundaryError: ExitCodeProviding {
    public var exitCode: ExitCode { .usage }
}
