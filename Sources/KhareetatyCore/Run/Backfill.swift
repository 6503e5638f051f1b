import Analytics
import Foundation
import Readers
import Logging
import Postgres

/// `khareetaty backfill --from D1 --to D2`: recomputes the derived tables (`district_daily` and the
/// trends for each date, the maps — hot spots, emerging hot spots — for the dates of
/// `aggregate.backfill_grids`) for a range of local dates from the stored incidents, one chunk (a
/// calendar month, or less at the range's ends) per transaction. Each finished chunk is recorded under a key
/// derived from the arguments with the newest load it had seen (`data_version`), so a re-run with
/// the same arguments continues at the first unfinished chunk and redoes every chunk a later load
/// made stale; `recompute` redoes them all.
public struct Backfill {
    public struct Summary: Sendable {
        public var runID: String
        public var chunks: Int
        public var skipped: Int
        /// Chunks done before, redone because a load came after them (or `recompute`).
        public var stale: Int
        public var days: Int
    }

    public let from: Int   // days since epoch, inclusive
    public let to: Int
    public var settings: Settings
    public var logger: Logger
    public var waitSeconds = 0
    /// The pipeline whose boundaries and `aggregate:` section the derived tables follow.
    public var pipeline: PipelineDefinition
    /// Redo every chunk of the range, done or not.
    public var recompute = false

    public init(from: String, to: String, settings: Settings, pipeline: PipelineDefinition, logger: Logger) throws {
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
        self.pipeline = pipeline
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
        // The grid dates are part of what a chunk computed: another cadence is another backfill.
        let text = "district_daily|\(CivilDate.isoDate(days: from))|\(CivilDate.isoDate(days: to))"
            + (pipeline.aggregate.backfillGrids == .daily ? "" : "|grids:\(pipeline.aggregate.backfillGrids.rawValue)")
        return SHA256.hash(Data(text.utf8)).prefix(12).hex
    }

    public func run() throws -> Summary {
        let runID = UUID().uuidString.lowercased()
        var logger = logger
        logger[metadataKey: "run_id"] = .string(runID)
        let scope = try RunScope.open(settings: settings, runID: runID, kind: "backfill", label: "backfill \(CivilDate.isoDate(days: from))..\(CivilDate.isoDate(days: to))",
                                      pipelineFile: pipeline.path,
                                      lock: .exclusive(wait: waitSeconds), logger: logger)
        defer { scope.close() }
        let db = scope.db, s = quoteIdentifier(settings.schema)
        let summary = try scope.run { () throws -> Summary in
            let layer = try DistrictLayer.load(pipeline.boundaries)
            let cache = HotspotAnalysis.GridCache()
            let version = try Self.dataVersion(db: db, schema: settings.schema)
            var done: Set<String> = [], stale = 0
            for row in try db.query("""
                SELECT chunk_start::text, data_version IS NOT DISTINCT FROM $2::timestamptz FROM \(s).backfill_chunks
                WHERE backfill_key = $1 AND status = 'done'
                """, [key, version]).typedRows {
                if try row.bool(1) && !recompute { done.insert(try row.text(0)) } else { stale += 1 }
            }
            let all = chunks
            let pending = all.filter { !done.contains(CivilDate.isoDate(days: $0.start)) }
            if pending.count < all.count {
                logger.notice("resuming: chunks already finished are skipped", metadata: ["finished": "\(all.count - pending.count)", "remaining": "\(pending.count)"])
            }
            if stale > 0 {
                logger.notice("redoing chunks done before the latest load", metadata: ["stale": "\(stale)", "recompute": "\(recompute)"])
            }
            let progress = Progress(total: Double(pending.count), unit: "chunks", logger: logger, logEachStep: "backfill chunk done")
            defer { progress.finish() }
            for (index, chunk) in pending.enumerated() {
                let (start, end) = (CivilDate.isoDate(days: chunk.start), CivilDate.isoDate(days: chunk.end))
                try Cancellation.check()  // between chunks: the finished ones stay done, the next run resumes
                try db.withTransaction { db in
                    try Self.recompute(db: db, schema: settings.schema, start: chunk.start, end: chunk.end, rangeEnd: to, layer: layer,
                                       aggregate: pipeline.aggregate, cache: cache)
                    try db.query("""
                        INSERT INTO \(s).backfill_chunks (backfill_key, chunk_start, chunk_end, run_id, worker, data_version)
                        VALUES ($1, $2, $3, $4, $5, $6::timestamptz)
                        ON CONFLICT (backfill_key, chunk_start) DO UPDATE
                            SET status = 'done', run_id = excluded.run_id, worker = excluded.worker, finished_at = clock_timestamp(),
                                data_version = excluded.data_version
                        """, [key, start, end, runID, Self.workerName, version])
                }
                progress.advance(to: Double(index + 1), label: "\(start)..\(end)")
                FaultPoint.backfillAfterChunk.reach()
            }
            return Summary(runID: runID, chunks: all.count, skipped: all.count - pending.count, stale: stale, days: to - from + 1)
        }
        try scope.succeed()
        return summary
    }

    /// The finish time of the newest succeeded run that loaded incidents: what a chunk's tables
    /// were computed from (nil: nothing loaded yet).
    static func dataVersion(db: any Queryable, schema: String) throws -> String? {
        try db.query("""
            SELECT max(finished_at)::text FROM \(quoteIdentifier(schema)).pipeline_runs WHERE status = 'succeeded' AND coalesce(rows_loaded, 0) > 0
            """).scalar ?? nil
    }

    /// `district_daily` for the chunk's days, then every derived table as of each of them (the grid
    /// tables as of the dates `aggregate.backfill_grids` picks; their rows of the chunk's other dates
    /// are removed: they were computed from older data), in the caller's transaction.
    static func recompute(db: Transaction, schema: String, start: Int, end: Int, rangeEnd: Int, layer: DistrictLayer, aggregate: AggregateSettings,
                          cache: HotspotAnalysis.GridCache) throws {
        let (first, last) = (CivilDate.isoDate(days: start), CivilDate.isoDate(days: end))
        let distributed = try Distribution.isDistributed(db: db, schema: schema)
        if distributed {
            // Citus lets one multi-shard write hold a table's shards at a time (and one write a
            // reference table's), until the commit: two workers would take turns. Chunks write
            // disjoint dates only, so their writes commute and cannot deadlock on rows: say so, for
            // this transaction alone.
            try db.execute("SET LOCAL citus.enable_deadlock_prevention = off; SET LOCAL citus.all_modifications_commutative = on")
        }
        try db.execute("DROP TABLE IF EXISTS backfill_days")
        try db.query("CREATE TEMPORARY TABLE backfill_days ON COMMIT DROP AS SELECT d::date AS local_date FROM generate_series($1::date, $2::date, interval '1 day') d",
                     [first, last])
        try DailyCounts.rebuild(db: db, schema: schema, daysTable: "backfill_days", distributed: distributed)
        _ = try DerivedTables.rebuild(db: db, schema: schema, days: start...end,
                                      gridDates: aggregate.backfillGrids.dates(in: start...end, rangeEnd: rangeEnd),
                                      layer: layer, settings: aggregate, cache: cache)
    }

    /// host:pid, recorded on each chunk a process finishes.
    static let workerName = "\(ProcessInfo.processInfo.hostName):\(getpid())"

    // MARK: Workers

    /// Queues this range's chunks (those not done yet) for `work`, and returns how many are open.
    public func enqueue() throws -> Int {
        let db = try Database.connect(settings)
        try Migrator(connection: db, schema: settings.schema).requireCurrent()
        let s = quoteIdentifier(settings.schema)
        let version = try Self.dataVersion(db: db, schema: settings.schema)
        for chunk in chunks {
            // A chunk done before the latest load (or any, with recompute) is opened again.
            try db.query("""
                INSERT INTO \(s).backfill_chunks (backfill_key, chunk_start, chunk_end, status, run_id, finished_at)
                VALUES ($1, $2, $3, 'open', NULL, NULL) ON CONFLICT (backfill_key, chunk_start) DO UPDATE
                    SET status = 'open', run_id = NULL, finished_at = NULL
                    WHERE backfill_chunks.status = 'done' AND ($4 OR backfill_chunks.data_version IS DISTINCT FROM $5::timestamptz)
                """, [key, CivilDate.isoDate(days: chunk.start), CivilDate.isoDate(days: chunk.end), recompute ? "t" : "f", version])
        }
        return Int(try db.query("SELECT count(*) FROM \(s).backfill_chunks WHERE backfill_key = $1 AND status = 'open'", [key]).scalar ?? "0") ?? 0
    }

    public struct WorkerSummary: Sendable {
        public var runID: String
        public var chunks: Int
    }

    /// A backfill worker: claims open chunks one at a time with `FOR UPDATE SKIP LOCKED` and
    /// recomputes each in the claiming transaction, until none is left. Any number of workers, on
    /// any hosts, can run at once: a chunk is taken exactly as long as its worker's transaction
    /// holds the row, so a worker that dies (crash, kill, lost connection) gives its chunk back
    /// with the rollback and another worker takes it. Chunks cover disjoint days, so workers do
    /// not get in each other's way; each holds the schema's run lock in shared mode while it works
    /// on a chunk, so no load (which takes it exclusively) changes incidents under it.
    public static func work(settings: Settings, pipeline: PipelineDefinition, logger: Logger) throws -> WorkerSummary {
        let runID = UUID().uuidString.lowercased()
        var logger = logger
        logger[metadataKey: "run_id"] = .string(runID)
        // No lock of its own: each chunk takes the schema's lock shared, in its transaction.
        let scope = try RunScope.open(settings: settings, runID: runID, kind: "worker", label: "backfill worker \(workerName)",
                                      pipelineFile: pipeline.path, lock: .none, logger: logger)
        defer { scope.close() }
        let db = scope.db, s = quoteIdentifier(settings.schema)
        let layer = try DistrictLayer.load(pipeline.boundaries)
        let cache = HotspotAnalysis.GridCache()
        var done = 0
        try scope.run {
            while true {
                try Cancellation.check()
                let claimed: (key: String, start: String, end: String)? = try db.withTransaction { db in
                    try db.query("SELECT pg_advisory_xact_lock_shared(hashtext($1))", [RunLock.key(settings.schema)])
                    guard let row = try db.query("""
                        SELECT backfill_key, chunk_start::text, chunk_end::text FROM \(s).backfill_chunks
                        WHERE status = 'open' ORDER BY chunk_start, backfill_key LIMIT 1 FOR UPDATE SKIP LOCKED
                        """).typedRows.first else { return nil }
                    let (key, start, end) = (try row.text(0), try row.text(1), try row.text(2))
                    FaultPoint.workerMidChunk.reach()
                    // The range's last date: the latest chunk end queued under this key.
                    let rangeEnd = try db.query("SELECT max(chunk_end)::text FROM \(s).backfill_chunks WHERE backfill_key = $1", [key]).scalar ?? nil
                    try recompute(db: db, schema: settings.schema, start: CivilDate.parseISODate(start)!, end: CivilDate.parseISODate(end)!,
                                  rangeEnd: CivilDate.parseISODate(rangeEnd ?? end)!, layer: layer, aggregate: pipeline.aggregate, cache: cache)
                    try db.query("""
                        UPDATE \(s).backfill_chunks SET status = 'done', run_id = $3, worker = $4, finished_at = clock_timestamp(),
                            data_version = $5::timestamptz
                        WHERE backfill_key = $1 AND chunk_start = $2
                        """, [key, start, runID, workerName, try dataVersion(db: db, schema: settings.schema)])
                    return (key, start, end)
                }
                guard let claimed else { break }
                done += 1
                logger.info("backfill chunk done", metadata: ["stage": "aggregate", "chunk": .string("\(claimed.start)..\(claimed.end)"),
                                                             "backfill_key": .string(claimed.key)])
            }
        }
        try scope.succeed()
        return WorkerSummary(runID: runID, chunks: done)
    }
}
