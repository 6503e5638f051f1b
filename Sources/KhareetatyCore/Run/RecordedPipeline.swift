import Foundation
import Logging
import Postgres

/// The pipeline a command works with when `--pipeline` is not given: the one that made the data.
/// `report`, `backfill` and `check` ask the ledger for the pipeline file of the latest succeeded
/// run whose as-of date lies in the dates they touch (else of the latest succeeded run at all), so
/// that another force's data is never read with Kuwait's boundaries just because the settings'
/// `pipeline` names Kuwait's. `run` keeps the settings' pipeline: it makes the data.
public enum RecordedPipeline {
    public struct Found: Sendable {
        public var path: String
        public var runID: String
    }

    /// nil when no succeeded run recorded a pipeline file that still exists here.
    public static func find(db: any Queryable, schema: String, from: String?, to: String?) throws -> Found? {
        let rows = try db.query("""
            SELECT pipeline_file, run_id::text FROM \(quoteIdentifier(schema)).pipeline_runs
            WHERE status = 'succeeded' AND pipeline_file IS NOT NULL AND kind <> 'replay'
            ORDER BY (as_of_date BETWEEN $1::date AND $2::date) IS TRUE DESC, finished_at DESC NULLS LAST
            LIMIT 20
            """, [from, to]).typedRows
        for row in rows {
            let path = try row.text(0)
            if FileManager.default.fileExists(atPath: path) { return Found(path: path, runID: try row.text(1)) }
        }
        return nil
    }

    /// The settings' pipeline, or the recorded one when the ledger has one: never fails (a
    /// database that cannot be reached leaves the settings' choice; the command reports it).
    public static func choose(settings: Settings, from: String?, to: String?, logger: Logger? = nil) -> Settings {
        var quick = settings
        quick.connectRetries = 0
        guard let db = try? Database.connect(quick),
              let found = try? find(db: db, schema: settings.schema, from: from, to: to) else { return settings }
        var chosen = settings
        if URL(fileURLWithPath: found.path).standardizedFileURL.path != URL(fileURLWithPath: settings.pipelinePath).standardizedFileURL.path {
            logger?.notice("pipeline from the ledger (the one that made the data; --pipeline chooses another)",
                           metadata: ["pipeline": .string(found.path), "run": .string(found.runID)])
        }
        chosen.pipelinePath = found.path
        return chosen
    }
}
