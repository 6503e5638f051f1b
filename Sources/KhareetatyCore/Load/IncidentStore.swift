import Postgres

/// Writes one run's data inside the caller's transaction:
///   1. clean incidents are COPYed into a temporary staging table as they stream in;
///   2. rejects are COPYed into `incident_rejects` as they come;
///   3. `finish` collapses duplicates, replaces re-sent incidents and recomputes `district_daily`
///      for every touched day.
/// Staging keeps client memory flat: duplicates are found by the server, not in a client-side set.
///
/// Duplicate rule: of several records with one `incident_id` (in this run, or stored before), the
/// one with the latest `updated_at` wins, else the later record (a run's record is later than a
/// stored one; within a run, file order then line order). The losers count as duplicates.
public final class IncidentStore {
    let db: PostgresConnection
    let schema: String
    let runID: String
    private var sequence = 0

    static let incidentColumns = ["incident_id", "occurred_at", "local_date", "category", "lat", "lon", "area_name", "description",
                                  "updated_at", "district_code", "governorate_code", "geocode_method", "geocode_detail", "flags", "source_file",
                                  "source_line", "run_id"]

    /// Per input file: staged (clean) records, of which loaded; and the unassigned among loaded.
    public struct FileCounts: Sendable {
        public var loaded = 0
        public var duplicates = 0
        public var unassigned = 0
        /// Loaded incidents by geocode method.
        public var methods: [String: Int] = [:]
    }

    public init(db: PostgresConnection, schema: String, runID: String) throws {
        self.db = db
        self.schema = schema
        self.runID = runID
        try db.execute("""
            CREATE TEMPORARY TABLE incidents_stage (LIKE \(table("incidents")), seq bigint NOT NULL) ON COMMIT DROP
            """)
    }

    func table(_ name: String) -> String { quoteIdentifier(schema) + "." + quoteIdentifier(name) }

    public func stage(_ incidents: [Incident]) throws {
        guard !incidents.isEmpty else { return }
        var seq = sequence
        try db.withCopy(into: "incidents_stage", columns: Self.incidentColumns + ["seq"]) { writer in
            for incident in incidents {
                try writer.append(incident.incidentID)
                try writer.append(CivilDate.isoTimestamp(epochSeconds: incident.occurredAt))
                try writer.append(CivilDate.isoDate(days: Int(incident.localDay)))
                try writer.append(incident.category)
                try writer.append(incident.lat)
                try writer.append(incident.lon)
                try writer.append(incident.areaName)
                try writer.append(incident.description)
                try writer.append(incident.updatedAt.map(CivilDate.isoTimestamp(epochSeconds:)))
                try writer.append(incident.districtCode)
                try writer.append(incident.governorateCode)
                try writer.append(incident.geocodeMethod.rawValue)
                try writer.append(incident.geocodeDetail)
                try writer.append("{" + incident.flags.map(\.rawValue).joined(separator: ",") + "}")
                try writer.append(incident.sourceFile)
                try writer.append(incident.sourceLine)
                try writer.append(runID)
                seq += 1
                try writer.append(seq)
                try writer.endRow()
            }
        }
        sequence = seq
    }

    /// Monthly partitions of `incidents` for every month about to be written (`incidents_YYYY_MM`).
    func createPartitions() throws {
        let months = try db.query("SELECT DISTINCT to_char(local_date, 'YYYY_MM'), date_trunc('month', local_date)::date::text FROM incidents_latest").rows
        for month in months {
            let start = month[1]!
            try db.query("""
                SELECT format('CREATE TABLE IF NOT EXISTS %I.%I PARTITION OF %I.incidents FOR VALUES FROM (%L) TO (%L)',
                              $1::text, 'incidents_' || $2, $1::text, $3::date, ($3::date + interval '1 month')::date)
                """, [schema, month[0]!, start]).scalar.map { try db.execute($0) }
        }
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
        try db.withCopy(into: table("incident_rejects"), columns: ["run_id", "source_file", "source_line", "reason_code", "message", "raw"]) { writer in
            for reject in rejects {
                try writer.writeRow([runID, reject.sourceFile, String(reject.sourceLine), reject.reason.rawValue,
                                     reject.message.replacingOccurrences(of: "\0", with: "\u{FFFD}"),
                                     reject.raw.replacingOccurrences(of: "\0", with: "\u{FFFD}")])
            }
        }
    }

    /// Collapses duplicates, replaces re-sent incidents and rebuilds daily counts for touched days.
    /// Returns the counts per source file.
    public func finish() throws -> [String: FileCounts] {
        let incidents = table("incidents")
        let columns = Self.incidentColumns.joined(separator: ", ")
        try db.execute("""
            CREATE TEMPORARY TABLE incidents_latest ON COMMIT DROP AS
                SELECT DISTINCT ON (incident_id) * FROM incidents_stage
                ORDER BY incident_id, updated_at DESC NULLS LAST, seq DESC;
            -- A stored version with a later updated_at wins over the re-sent one.
            DELETE FROM incidents_latest n USING \(incidents) i
                WHERE i.incident_id = n.incident_id AND i.updated_at IS NOT NULL
                  AND (n.updated_at IS NULL OR n.updated_at < i.updated_at);
            CREATE TEMPORARY TABLE touched_days ON COMMIT DROP AS
                SELECT DISTINCT local_date FROM incidents_latest
                UNION
                SELECT i.local_date FROM \(incidents) i JOIN incidents_latest n USING (incident_id);
            DELETE FROM \(incidents) i USING incidents_latest n WHERE i.incident_id = n.incident_id;
            """)
        try createPartitions()
        var counts: [String: FileCounts] = [:]
        let loaded = try db.query("""
            WITH inserted AS (
                INSERT INTO \(incidents) (\(columns)) SELECT \(columns) FROM incidents_latest
                RETURNING source_file, district_code, geocode_method
            )
            SELECT source_file, geocode_method, count(*), count(*) FILTER (WHERE district_code IS NULL) FROM inserted GROUP BY 1, 2
            """).rows
        for row in loaded {
            let (file, method, n, unassigned) = (row[0]!, row[1]!, Int(row[2]!)!, Int(row[3]!)!)
            counts[file, default: FileCounts()].loaded += n
            counts[file, default: FileCounts()].unassigned += unassigned
            counts[file, default: FileCounts()].methods[method, default: 0] += n
        }
        for row in try db.query("SELECT source_file, count(*) FROM incidents_stage GROUP BY source_file").rows {
            let file = row[0]!
            counts[file, default: FileCounts()].duplicates = Int(row[1]!)! - (counts[file]?.loaded ?? 0)
        }
        try DailyCounts.rebuild(db: db, schema: schema, daysTable: "touched_days")
        return counts
    }
}

/// Load: streams each cleaned, geocoded batch into the store (staging + rejects).
public struct LoadStage: Stage {
    public let store: IncidentStore
    public init(store: IncidentStore) { self.store = store }

    /// Passes the batch on unchanged, so callers can count what went through.
    public mutating func process(_ batch: IncidentBatch) throws -> IncidentBatch {
        try store.stage(batch.incidents)
        try store.reject(batch.rejects)
        return batch
    }
}
