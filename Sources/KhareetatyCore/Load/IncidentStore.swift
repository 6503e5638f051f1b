import Foundation
import Postgres

/// Writes one run's data inside the caller's transaction:
///   1. clean incidents stream by binary COPY into a staging table, `incidents_stage`, partitioned
///      by month like `incidents` (the store creates a staging partition when a month first appears);
///   2. rejects are COPYed into `incident_rejects` as they come;
///   3. `finish` deletes the duplicates from staging, replaces re-sent incidents, moves each month
///      into `incidents` and lists every touched day (the run rebuilds their daily counts); `discard` drops
///      staging instead. Staging is ordinary DDL in the run's transaction: a rollback or a crash
///      leaves nothing of it, and one run per schema (the run lock) means one staging table.
/// Staging keeps client memory flat: duplicates are found by the server, not in a client-side set.
///
/// Duplicate rule: of several records with one `incident_id` (in this run, or stored before), the
/// one with the latest `updated_at` wins, else the later record (a run's record is later than a
/// stored one; within a run, file order then line order). The losers count as duplicates.
///
/// Speed (docs/BENCHMARKS.md): rows are written once. A month that has no partition yet — every
/// month of a first load or a backfill — is staged directly in its future partition
/// (`incidents_YYYY_MM`), which `finish` detaches from staging, strips of the two staging columns
/// and attaches to `incidents`: its indexes are then built once over sorted rows (far cheaper than
/// inserting a million rows into B-trees), and a CHECK constraint matching the range lets ATTACH
/// skip its validation scan. Rows for months that exist are staged apart and INSERTed.
public final class IncidentStore {
    let db: Transaction
    let schema: String
    let runID: String
    private let runUUID: [UInt8]
    private var sequence: Int64 = 0
    /// First day (days since 1970-01-01) of every month staged so far, and whether `incidents` had
    /// no partition for it (a new month, staged in its future partition).
    private var stagedMonths: [Int32: Bool] = [:]
    /// Every local day staged so far (days since 1970-01-01).
    private var stagedDays: Set<Int32> = []
    /// What was staged per input file: `finish` subtracts the duplicates it deletes.
    private var staged: [String: FileCounts] = [:]
    /// Ids staged so far, so that only records that may repeat one are ranked for duplicates.
    private var seen = SeenFilter()
    /// The filter's answers for the batch being staged (kept: its storage is reused).
    private var maybeSeen: [Bool] = []
    /// Daily counts of the days of new months, for `DailyCounts` (after `finish`: duplicates out).
    private(set) var newMonthCounts = NewMonthCounts()
    private var maybeRepeats = 0
    /// The ids the filter flagged, while they are few (a re-sent file flags every id: then nil, and
    /// `finish` finds them in staging instead). With them, ranking the duplicates reads staging once.
    private var flaggedIDs: Set<String>? = []
    private let flaggedIDsLimit: Int
    /// Month-only incidents staged (before duplicates are taken out).
    private(set) var stagedMonthOnly = 0

    /// One `incidents_stage` row: a placed incident, the run, and the two staging columns (`seq`,
    /// the record's order in the run; `maybe_repeat`, whether its id may have been staged before).
    struct Staged {
        /// The batch and the row's place in it: a `PlacedIncident` held here by value would be a copy
        /// (a retain and a release of each of its strings, per row).
        let batch: [PlacedIncident]
        let index: Int
        let run: [UInt8]
        let seq: Int64
        let maybeRepeat: Bool
    }

    /// The stored incident's columns (every column of `incidents`), then the two staging ones.
    static let stageLayout = stageLayout(precisionAndCode: true)
    /// The same without `time_precision` and `area_code`, for a batch where every incident has
    /// its day and no area code (the usual case): the columns' defaults ('day', NULL) fill them,
    /// and the million-row load sends 5 % fewer bytes.
    static let compactStageLayout = stageLayout(precisionAndCode: false)

    static func stageLayout(precisionAndCode: Bool) -> BinaryCopyLayout<Staged> {
        let columns = ["incident_id", "occurred_at", "local_date", "category", "lat", "lon", "area_name", "description", "updated_at",
                       "district_code", "governorate_code", "geocode_method", "geocode_detail", "flags", "source_file", "source_line", "run_id"]
            + (precisionAndCode ? ["time_precision", "area_code"] : []) + ["seq", "maybe_repeat"]
        return BinaryCopyLayout<Staged>(columns: columns) { row, w in
            // Fields read through the batch, never copied out whole (a copy retains every string).
            let (batch, i) = (row.batch, row.index)
            try w.text("incident_id", batch[i].incident.incidentID)
            try w.timestamptz("occurred_at", batch[i].incident.occurredAt)
            try w.date("local_date", batch[i].incident.localDay)
            try w.text("category", batch[i].incident.category)
            try w.float8("lat", batch[i].incident.lat)
            try w.float8("lon", batch[i].incident.lon)
            try w.text("area_name", batch[i].incident.areaName)
            try w.text("description", batch[i].incident.description)
            try w.timestamptz("updated_at", batch[i].incident.updatedAt)
            try w.text("district_code", batch[i].placement.districtCode)
            try w.text("governorate_code", batch[i].placement.governorateCode)
            try w.text("geocode_method", batch[i].placement.geocodeMethod.rawValue)
            try w.text("geocode_detail", batch[i].placement.geocodeDetail)
            try w.textArray("flags", batch[i].incident.flags.map(\.rawValue))
            try w.text("source_file", batch[i].incident.sourceFile)
            try w.int4("source_line", Int32(clamping: batch[i].incident.sourceLine))
            try w.uuid("run_id", row.run)
            if precisionAndCode {
                try w.text("time_precision", batch[i].incident.precision.rawValue)
                try w.text("area_code", batch[i].incident.areaCode)
            }
            try w.int8("seq", row.seq)
            try w.bool("maybe_repeat", row.maybeRepeat)
        }
    }
    /// The columns a stored incident has (`incidents`), staging's two left out.
    static let incidentColumns = stageLayout.names.filter { $0 != "seq" && $0 != "maybe_repeat" }

    /// Per input file: loaded incidents, duplicates, unassigned among loaded, loaded by geocode method.
    public struct FileCounts: Sendable {
        public var loaded = 0
        public var duplicates = 0
        public var unassigned = 0
        /// Loaded incidents by geocode method.
        public var methods: [String: Int] = [:]
    }

    /// `flaggedIDsLimit`: how many flagged ids the client lists before it leaves finding them to
    /// the server (100,000 ids: a few MB).
    public init(db: Transaction, schema: String, runID: String, flaggedIDsLimit: Int = 100_000) throws {
        self.flaggedIDsLimit = flaggedIDsLimit
        guard let uuid = BinaryCopyWriter.uuidBytes(runID) else { throw PostgresError(kind: .client, message: "run id \(runID) is not a UUID") }
        self.db = db
        self.schema = schema
        self.runID = runID
        runUUID = uuid
        distributed = try Distribution.isDistributed(db: db, schema: schema)
        if distributed {
            // Citus: a permanent staging table, co-located with incidents; a load does no DDL
            // (Distribution). Empty after every committed load; emptied again in case.
            try db.execute("TRUNCATE \(table("incidents_stage"))")
        } else {
            // The staging DDL goes through the schema owner's definer functions (migration 13), so the
            // loading role needs no DDL rights of its own.
            try db.execute("SELECT \(function("stage_begin"))()")
        }
    }

    /// Whether the schema is distributed over a Citus cluster (see `Distribution`): staging is then a
    /// permanent table, every month is moved by INSERT … SELECT, and no partition is created.
    let distributed: Bool

    /// Drops (on Citus: empties) staging without loading it (a run that loads no incidents).
    public func discard() throws {
        if distributed {
            try db.execute("TRUNCATE \(table("incidents_stage"))")
        } else {
            try db.execute("SELECT \(function("stage_end"))()")
        }
    }

    func function(_ name: String) -> String { quoteIdentifier(schema) + "." + quoteIdentifier(name) }

    func table(_ name: String) -> String { quoteIdentifier(schema) + "." + quoteIdentifier(name) }

    /// `incidents_YYYY_MM` for the month starting on `firstDay`, and the month's [start, end) dates.
    static func month(_ firstDay: Int32) -> (suffix: String, start: String, end: String) {
        let (y, m, _) = CivilDate.civil(days: Int(firstDay))
        let next = m == 12 ? CivilDate.days(year: y + 1, month: 1, day: 1) : CivilDate.days(year: y, month: m + 1, day: 1)
        return (String(format: "%04d_%02d", y, m), CivilDate.isoDate(days: Int(firstDay)), CivilDate.isoDate(days: next))
    }

    public func stage(_ incidents: [PlacedIncident]) throws {
        guard !incidents.isEmpty else { return }
        // Staging partitions must exist before the COPY that routes rows into them.
        var lastDay: Int32 = .min
        for i in incidents.indices where incidents[i].incident.localDay != lastDay {
            lastDay = incidents[i].incident.localDay
            guard stagedDays.insert(lastDay).inserted else { continue }
            let (y, m, _) = CivilDate.civil(days: Int(lastDay))
            let firstDay = Int32(CivilDate.days(year: y, month: m, day: 1))
            if stagedMonths[firstDay] == nil {
                // On Citus no partition is created: every month's rows are INSERTed (not new).
                stagedMonths[firstDay] = try !distributed
                    && db.query("SELECT \(function("stage_month"))($1::date)", [Self.month(firstDay).start]).scalar == "t"
            }
            if stagedMonths[firstDay] == true { newMonthCounts.touch(day: lastDay) }
        }
        var seq = sequence
        let runUUID = self.runUUID
        // What this batch stages, per input file (a batch comes from one file: the path is hashed once).
        var file = incidents[0].incident.sourceFile, counts = FileCounts()
        func flushCounts() { staged[file, default: FileCounts()].merge(counts) }
        let plain = incidents.indices.allSatisfy { incidents[$0].incident.precision == .day && incidents[$0].incident.areaCode == nil }
        try db.withCopy(into: table("incidents_stage"), layout: plain ? Self.compactStageLayout : Self.stageLayout) { emit in
            seen.insert(count: incidents.count, id: { incidents[$0].incident.incidentID }, into: &maybeSeen)
            for i in incidents.indices {  // by index: `for placed in incidents` copies every row
                seq += 1
                let maybeRepeat = maybeSeen[i]
                if maybeRepeat {
                    maybeRepeats += 1
                    if flaggedIDs != nil {
                        flaggedIDs!.insert(incidents[i].incident.incidentID)
                        if flaggedIDs!.count > flaggedIDsLimit { flaggedIDs = nil }
                    }
                }
                try emit(Staged(batch: incidents, index: i, run: runUUID, seq: seq, maybeRepeat: maybeRepeat))
                if incidents[i].incident.sourceFile != file {
                    flushCounts()
                    (file, counts) = (incidents[i].incident.sourceFile, FileCounts())
                }
                let isMonthOnly = incidents[i].incident.precision == .month
                if isMonthOnly { stagedMonthOnly += 1 }
                if let district = incidents[i].placement.districtCode, newMonthCounts.counts(day: incidents[i].incident.localDay) {
                    newMonthCounts.add(day: incidents[i].incident.localDay, district: district, layerIndex: incidents[i].placement.districtIndex,
                                       category: incidents[i].incident.category, isMonthOnly: isMonthOnly)
                }
                counts.add(method: incidents[i].placement.geocodeMethod.rawValue, unassigned: incidents[i].placement.districtCode == nil, count: 1)
            }
        }
        flushCounts()
        sequence = seq
    }

    /// The succeeded run that loaded an input with this SHA-256, if any.
    public func succeededRun(loading sha256: String) throws -> String? {
        try db.query("""
            SELECT run_id FROM \(table("pipeline_runs")) WHERE status = 'succeeded'
              AND inputs @> jsonb_build_array(jsonb_build_object('sha256', $1::text))
            ORDER BY finished_at DESC LIMIT 1
            """, [sha256]).scalar
    }

    public func reject(_ rejects: [Reject]) throws {
        guard !rejects.isEmpty else { return }
        try db.copy(rejects.lazy.map { (run: self.runID, reject: $0) }, into: table("incident_rejects"), layout: Self.rejectLayout)
    }

    /// An `incident_rejects` row. NUL cannot be stored in PostgreSQL text: the raw record keeps the
    /// rest of its bytes with U+FFFD in its place.
    static let rejectLayout = CopyLayout<(run: String, reject: Reject)>([
        .init("run_id") { $0.run },
        .init("source_file") { $0.reject.sourceFile },
        .init("source_line") { $0.reject.sourceLine },
        .init("reason_code") { $0.reject.reason.rawValue },
        .init("message") { $0.reject.message.replacingOccurrences(of: "\0", with: "\u{FFFD}") },
        .init("raw") { $0.reject.raw.replacingOccurrences(of: "\0", with: "\u{FFFD}") },
    ])

    /// Loaded incidents of this run known only to the month (after `finish`).
    public func loadedMonthOnly() throws -> Int {
        guard stagedMonthOnly > 0 else { return 0 }  // the usual case: no query
        return try db.query("SELECT count(*) FROM \(table("incidents")) WHERE run_id = $1::uuid AND time_precision = 'month'",
                            [runID]).typedRows.first?.int(0) ?? 0
    }

    /// The days a run's load touched (a temporary table until the commit): where the daily counts
    /// must be rebuilt (`DailyCounts`, by the run, after `finish`).
    public static let touchedDays = "touched_days"

    /// Deletes the duplicates from staging, replaces re-sent incidents, moves staging into
    /// `incidents` and fills `touchedDays`. Returns the counts per source file.
    public func finish() throws -> [String: FileCounts] {
        let incidents = table("incidents"), stage = table("incidents_stage")
        // Sorts and hashes over a whole run's rows: give them memory instead of temporary files; JIT
        // compiling each statement costs more (≈ 0.1 s a statement) than it saves on a batch job.
        try db.execute("SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '512MB'; SET LOCAL jit = off")
        var counts = staged
        func subtract(_ losers: QueryResult) throws {
            for row in losers.typedRows {
                let (file, method, unassigned, n) = (try row.text(0), try row.text(1), try row.bool(2), try row.int(7))
                counts[file, default: FileCounts()].add(method: method, unassigned: unassigned, count: -n)
                counts[file, default: FileCounts()].duplicates += n
                // A loser counted in a new month comes off its day's count (a month-only one, its month's).
                if let district = row[4], case let day = Int32(try row.int(3)), newMonthCounts.counts(day: day) {
                    newMonthCounts.add(day: day, district: district, category: try row.text(5), count: -Int32(n), isMonthOnly: try row.text(6) == "month")
                }
            }
        }
        let losersByFile = "SELECT source_file, geocode_method, unassigned, local_date - date '1970-01-01', district_code, category, time_precision, count(*) FROM losers GROUP BY 1, 2, 3, 4, 5, 6, 7"
        // Duplicates within the run: all but the latest of each id with more than one record. A
        // repeated id has all records but its first flagged `maybe_repeat` (the filter never misses):
        // the rows of the flagged ids — listed by the client while few (one scan of staging, the
        // list hashed), else found by a first scan.
        let flagged = flaggedIDs != nil ? "incident_id = ANY ($1::text[])"
            : "incident_id IN (SELECT incident_id FROM \(stage) WHERE maybe_repeat)"
        if maybeRepeats > 0 { try subtract(try db.query("""
            WITH ranked AS (
                SELECT incident_id, seq, row_number() OVER (PARTITION BY incident_id ORDER BY updated_at DESC NULLS LAST, seq DESC) AS rank
                FROM \(stage)
                WHERE \(flagged)
            ), losers AS (
                DELETE FROM \(stage) s WHERE (s.incident_id, s.seq) IN (SELECT incident_id, seq FROM ranked WHERE rank > 1)
                RETURNING s.source_file, s.geocode_method, s.district_code IS NULL AS unassigned, s.local_date, s.district_code, s.category, s.time_precision
            )
            \(losersByFile)
            """, flaggedIDs.map { [Self.arrayLiteral($0)] } ?? [])) }
        // A stored version with a later updated_at wins over the re-sent one.
        try subtract(try db.query("""
            WITH losers AS (
                DELETE FROM \(stage) n USING \(incidents) i
                WHERE i.incident_id = n.incident_id AND i.updated_at IS NOT NULL AND (n.updated_at IS NULL OR n.updated_at < i.updated_at)
                RETURNING n.source_file, n.geocode_method, n.district_code IS NULL AS unassigned, n.local_date, n.district_code, n.category, n.time_precision
            )
            \(losersByFile)
            """))
        // Touched days: every staged day (a duplicate's day too: harmless) and the day a re-sent incident moves away from.
        try db.execute("CREATE TEMPORARY TABLE \(Self.touchedDays) (local_date date PRIMARY KEY) ON COMMIT DROP")
        try db.query("INSERT INTO \(Self.touchedDays) SELECT unnest($1::date[])",
                     [CivilDate.arrayLiteral(days: stagedDays)])
        try db.execute("""
            WITH replaced AS (
                DELETE FROM \(incidents) i USING \(stage) n WHERE i.incident_id = n.incident_id RETURNING i.local_date
            )
            INSERT INTO \(Self.touchedDays) SELECT DISTINCT local_date FROM replaced ON CONFLICT DO NOTHING
            """)
        try moveStagedMonths()
        for file in counts.keys { counts[file]!.methods = counts[file]!.methods.filter { $0.value != 0 } }
        return counts
    }

    /// A PostgreSQL array literal of texts: every element quoted, `"` and `\` escaped.
    static func arrayLiteral(_ values: some Sequence<String>) -> String {
        var out = "{", first = true
        for value in values {
            if !first { out += "," }
            first = false
            out += "\""
            for c in value.unicodeScalars {
                if c == "\"" || c == "\\" { out += "\\" }
                out.unicodeScalars.append(c)
            }
            out += "\""
        }
        return out + "}"
    }

    /// Each staged month into `incidents`: a new month's partition moves from staging to
    /// `incidents` (its indexes built by ATTACH); an existing month's rows are INSERTed. Then
    /// staging, with what is left of it, is dropped.
    private func moveStagedMonths() throws {
        let columns = Self.incidentColumns.joined(separator: ", ")
        if distributed {
            // Co-located by incident_id: one INSERT … SELECT that each worker runs on its own shards.
            try db.execute("INSERT INTO \(table("incidents")) (\(columns)) SELECT \(columns) FROM \(table("incidents_stage"))")
            try discard()
            return
        }
        for (firstDay, isNew) in stagedMonths.sorted(by: { $0.key < $1.key }) {
            let month = Self.month(firstDay)
            if isNew {
                // attach_month also analyzes the month: without statistics the daily counts below (and
                // the aggregates) would fetch a whole new month through the index row by row.
                try db.query("SELECT \(function("attach_month"))($1::date)", [month.start])
            } else {
                try db.query("""
                    INSERT INTO \(table("incidents")) (\(columns)) SELECT \(columns) FROM \(table("incidents_stage"))
                    WHERE local_date >= $1::date AND local_date < $2::date
                    """, [month.start, month.end])
            }
        }
        try discard()
    }
}

extension IncidentStore.FileCounts {
    mutating func add(method: String, unassigned: Bool, count: Int) {
        loaded += count
        methods[method, default: 0] += count
        if unassigned { self.unassigned += count }
    }

    mutating func merge(_ other: Self) {
        loaded += other.loaded
        duplicates += other.duplicates
        unassigned += other.unassigned
        methods.merge(other.methods, uniquingKeysWith: +)
    }
}

/// Load: streams each cleaned, geocoded batch into the store (staging + rejects) and, at the end
/// of the run's inputs, moves what it staged into place (`IncidentStore.finish`).
public struct LoadStage: Stage {
    public let store: IncidentStore
    /// After `finish`: per input file, what was loaded and what were duplicates.
    public private(set) var perFile: [String: IncidentStore.FileCounts] = [:]
    public init(store: IncidentStore) { self.store = store }

    /// Passes the batch on unchanged, so callers can count what went through.
    public mutating func process(_ batch: PlacedBatch) throws -> PlacedBatch {
        try store.stage(batch.incidents)
        try store.reject(batch.rejects)
        return batch
    }

    /// Duplicates out, re-sent incidents replaced, staged months into `incidents`.
    public mutating func finish() throws {
        perFile = try store.finish()
    }

    /// Ends the load without loading: staging dropped, the rejects kept (a run refused for its
    /// reject ratio records why, and not one incident).
    public mutating func abandon() throws {
        try store.discard()
    }
}
