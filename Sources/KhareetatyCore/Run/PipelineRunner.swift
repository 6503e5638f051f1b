import Foundation
import Geo
import Logging
import Postgres

/// Runs a pipeline end to end: ingest → clean → geocode → load (+ daily counts), with the whole
/// effect committed in one transaction or not at all.
public struct PipelineRunner {
    public enum Kind: String, Sendable { case nightly, backfill, replay }

    public var settings: Settings
    public var pipeline: PipelineDefinition
    public var kind: Kind = .nightly
    public var dryRun = false
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
        let runID = UUID().uuidString.lowercased()
        var logger = logger
        logger[metadataKey: "run_id"] = .string(runID)

        logger.info("loading boundaries", metadata: ["stage": "geocode", "file": .string(pipeline.boundaries.districtsFile)])
        let layer = try DistrictLayer.load(pipeline.boundaries)

        let db = try Database.connect(settings)
        try Migrator(connection: db, schema: settings.schema).requireCurrent()
        let ledger = RunLedger(schema: settings.schema)
        try ledger.start(db, runID: runID, kind: kind.rawValue, pipeline: pipeline.path)

        var summary = RunSummary(runID: runID, status: "succeeded", pipeline: pipeline.name)
        summary.dryRun = dryRun
        do {
            try db.withTransaction { db in
                try DistrictSync.replace(db: db, schema: settings.schema, layer: layer)
                var store = try IncidentStore(db: db, schema: settings.schema, runID: runID)
                for path in pipeline.inputs {
                    summary.inputs.append(try ingest(path, layer: layer, store: &store, summary: &summary, logger: logger))
                }
                let (loaded, duplicates, unassigned) = try store.finish()
                summary.rowsLoaded = loaded
                summary.rowsDuplicate = duplicates
                summary.rowsUnassigned = unassigned
                summary.durationS = Date().timeIntervalSince(started)
                guard summary.accountingHolds else { throw AccountingError(summary: summary) }
                try ledger.succeed(db, summary)
                if dryRun { throw DryRunRollback(summary: summary) }
            }
        } catch let rollback as DryRunRollback {
            ledger.fail(db, runID: runID, error: "dry run: rolled back")
            return rollback.summary
        } catch {
            ledger.fail(db, runID: runID, error: String(describing: error))
            throw error
        }
        logger.info("run committed", metadata: ["stage": "load", "rows_loaded": .stringConvertible(summary.rowsLoaded)])
        return summary
    }

    /// Streams one input file through clean and geocode into the store, batch by batch.
    private func ingest(_ path: String, layer: DistrictLayer, store: inout IncidentStore, summary: inout RunSummary,
                        logger: Logger) throws -> RunSummary.Input {
        let reader = try CSVReader(path: path, delimiter: pipeline.delimiter)
        var stages = try CleanStage(pipeline: pipeline, header: reader.header, file: path).then(GeocodeStage(layer: layer))
        var input = RunSummary.Input(path: path, bytes: fileSize(path), rowsRead: 0, rowsRejected: 0)
        logger.info("reading", metadata: ["stage": "ingest", "file": .string(path)])
        var batch: [RawRecord] = []
        batch.reserveCapacity(settings.batchSize)
        func flush() throws {
            let output = try stages.process(batch)
            try store.stage(output.incidents)
            try store.reject(output.rejects)
            input.rowsRead += batch.count
            input.rowsRejected += output.rejects.count
            for reject in output.rejects { summary.rejectsByReason[reject.reason.rawValue, default: 0] += 1 }
            batch.removeAll(keepingCapacity: true)
        }
        while let record = try reader.nextRecord() {
            batch.append(record)
            if batch.count >= settings.batchSize { try flush() }
        }
        try flush()
        summary.rowsRead += input.rowsRead
        summary.rowsRejected += input.rowsRejected
        return input
    }

    private func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}

/// Keeps the `districts` table equal to the pipeline's boundary layer.
enum DistrictSync {
    static func replace(db: PostgresConnection, schema: String, layer: DistrictLayer) throws {
        let table = quoteIdentifier(schema) + ".districts"
        try db.execute("DELETE FROM \(table)")
        try db.withCopy(into: table, columns: ["code", "name", "governorate_code", "governorate_name", "area_km2", "geometry_geojson"]) { writer in
            for district in layer.districts {
                try writer.append(district.code)
                try writer.append(district.name)
                try writer.append(district.governorateCode)
                try writer.append(district.governorateName)
                try writer.append((district.areaKm2 * 1000).rounded() / 1000)
                try writer.append(district.geometry.geoJSON)
                try writer.endRow()
            }
        }
    }
}

extension BoundaryError: ExitCodeProviding {
    public var exitCode: ExitCode { .usage }
}
