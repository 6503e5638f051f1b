import Crypto
import Foundation
import Logging
import Postgres

/// `khareetaty backfill --from D1 --to D2`: recomputes the derived tables (`district_daily`, and
/// `district_trends` as of each date) for a range of local dates from the stored incidents, one chunk (a calendar month, or less at the range's ends) per
/// transaction. Each finished chunk is recorded under a key derived from the arguments, so an
/// interrupted backfill re-run with the same arguments continues at the first unfinished chunk.
public struct Backfill {
    public struct Summary: Sendable {
        public var runID: String
        public var chunks: Int
        public var skipped: Int
        public var days: Int
    }

    public let from: Int   // days since epoch, inclusive
    public let to: Int
    public var settings: Settings
    public var logger: Logger
    public var waitSeconds = 0
    /// Trend settings (the pipeline's `aggregate:` section).
    public var aggregate = AggregateSettings()

    public init(from: String, to: String, settings: Settings, logger: Logger) throws {
        func day(_ text: String, _ key: String) throws -> Int {
            guard let days = CivilDate.parseISODate(text) else {
                throw ConfigError(key: key, value: text, source: "command line", problem: "allowed: a date YYYY-MM-DD")
            }
            return days
        }
        self.from = try day(from, "--from")
        self.to = try day(to, "--to")
        guard self.from <= self.to else {
            throw ConfigError(key: "--to", value: to, source: "command line", problem: "must not be before --from (\(from))")
        }
        self.settings = settings
        self.logger = logger
    }

    /// Calendar-month chunks covering [from, to].
    var chunks: [(start: Int, end: Int)] {
        var result: [(Int, Int)] = []
        var start = from
        while start <= to {
            let (y, m, _) = CivilDate.civil(days: start)
            let nextMonth = m == 12 ? CivilDate.days(year: y + 1, month: 1, day: 1) : CivilDate.days(year: y, month: m + 1, day: 1)
            let end = min(nextMonth - 1, to)
            result.append((start, end))
            start = end + 1
        }
        return result
    }

    var key: String {
        let text = "district_daily|\(CivilDate.isoDate(days: from))|\(CivilDate.isoDate(days: to))"
        return SHA256.hash(data: Data(text.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    public func run() throws -> Summary {
        let runID = UUID().uuidString.lowercased()
        var logger = logger
        logger[metadataKey: "run_id"] = .string(runID)
        let db = try Database.connect(settings)
        try Migrator(connection: db, schema: settings.schema).requireCurrent()
        try RunLock.acquire(db, schema: settings.schema, wait: waitSeconds, runID: runID)
        defer { RunLock.release(db, schema: settings.schema) }
        let s = quoteIdentifier(settings.schema)
        try db.query("INSERT INTO \(s).pipeline_runs (run_id, kind, status, pipeline, host, version) VALUES ($1, 'backfill', 'running', $2, $3, $4)",
                     [runID, "backfill \(CivilDate.isoDate(days: from))..\(CivilDate.isoDate(days: to))", ProcessInfo.processInfo.hostName, Khareetaty.version])

        let done = Set(try db.query("SELECT chunk_start::text FROM \(s).backfill_chunks WHERE backfill_key = $1", [key]).rows.compactMap { $0[0] })
        let all = chunks
        let pending = all.filter { !done.contains(CivilDate.isoDate(days: $0.start)) }
        if pending.count < all.count {
            logger.notice("resuming: chunks already finished are skipped", metadata: ["finished": "\(all.count - pending.count)", "remaining": "\(pending.count)"])
        }
        let progress = Progress(total: Double(pending.count), unit: "chunks", logger: logger, logEachStep: "backfill chunk done")
        defer { progress.finish() }
        do {
            for (index, chunk) in pending.enumerated() {
                let (start, end) = (CivilDate.isoDate(days: chunk.start), CivilDate.isoDate(days: chunk.end))
                try db.withTransaction { db in
                    try db.execute("DROP TABLE IF EXISTS backfill_days")
                    try db.query("CREATE TEMPORARY TABLE backfill_days ON COMMIT DROP AS SELECT d::date AS local_date FROM generate_series($1::date, $2::date, interval '1 day') d",
                                  [start, end])
                    try DailyCounts.rebuild(db: db, schema: settings.schema, daysTable: "backfill_days")
                    for day in chunk.start...chunk.end {
                        _ = try DistrictTrends.rebuild(db: db, schema: settings.schema, asOf: CivilDate.isoDate(days: day), settings: aggregate)
                    }
                    try db.query("INSERT INTO \(s).backfill_chunks (backfill_key, chunk_start, chunk_end, run_id) VALUES ($1, $2, $3, $4)",
                                 [key, start, end, runID])
                }
                progress.advance(to: Double(index + 1), label: "\(start)..\(end)")
                FaultPoint.backfillAfterChunk.reach()
            }
        } catch {
            _ = try? db.query("UPDATE \(s).pipeline_runs SET status = 'failed', finished_at = clock_timestamp(), error = $2 WHERE run_id = $1",
                              [runID, String(describing: error)])
            throw error
        }
        try db.query("UPDATE \(s).pipeline_runs SET status = 'succeeded', finished_at = clock_timestamp() WHERE run_id = $1", [runID])
        return Summary(runID: runID, chunks: all.count, skipped: all.count - pending.count, days: to - from + 1)
    }
}

