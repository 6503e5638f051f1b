import Postgres

/// Writes one run's data inside the caller's transaction:
///   1. clean incidents are COPYed into a temporary staging table as they stream in;
///   2. rejects are COPYed into `incident_rejects`;
///   3. `finish` collapses duplicates (latest `updated_at`, else the later record), replaces
///      re-sent incidents, and recomputes `district_daily` for every touched day.
/// Staging keeps client memory flat: duplicates are found by the server, not in a client-side set.
public struct IncidentStore {
    let db: PostgresConnection
    let schema: String
    let runID: String
    private var sequence = 0

    static let incidentColumns = ["incident_id", "occurred_at", "local_date", "category", "lat", "lon", "area_name", "description",
                                  "updated_at", "district_code", "governorate_code", "geocode_method", "source_file", "source_line", "run_id"]

    public init(db: PostgresConnection, schema: String, runID: String) throws {
        self.db = db
        self.schema = schema
        self.runID = runID
        try db.execute("""
            CREATE TEMPORARY TABLE incidents_stage (LIKE \(table("incidents")), seq bigint NOT NULL) ON COMMIT DROP
            """)
    }

    func table(_ name: String) -> String { quoteIdentifier(schema) + "." + quoteIdentifier(name) }

    public mutating func stage(_ incidents: [Incident]) throws {
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

    public func reject(_ rejects: [Reject]) throws {
        guard !rejects.isEmpty else { return }
        try db.withCopy(into: table("incident_rejects"), columns: ["run_id", "source_file", "source_line", "reason_code", "message", "raw"]) { writer in
            for reject in rejects {
                try writer.writeRow([runID, reject.sourceFile, String(reject.sourceLine), reject.reason.rawValue, reject.message,
                                     reject.raw.replacingOccurrences(of: "\0", with: "\u{FFFD}")])
            }
        }
    }

    /// Collapses duplicates, replaces re-sent incidents and rebuilds daily counts for touched days.
    /// Returns (distinct incidents loaded, duplicates collapsed, unassigned among the loaded).
    public func finish() throws -> (loaded: Int, duplicates: Int, unassigned: Int) {
        let incidents = table("incidents")
        let columns = Self.incidentColumns.joined(separator: ", ")
        try db.execute("""
            CREATE TEMPORARY TABLE touched_days ON COMMIT DROP AS
                SELECT DISTINCT local_date FROM incidents_stage
                UNION
                SELECT i.local_date FROM \(incidents) i JOIN incidents_stage s USING (incident_id);
            DELETE FROM \(incidents) i USING incidents_stage s WHERE i.incident_id = s.incident_id;
            """)
        let inserted = try db.query("""
            INSERT INTO \(incidents) (\(columns))
            SELECT DISTINCT ON (incident_id) \(columns) FROM incidents_stage
            ORDER BY incident_id, updated_at DESC NULLS LAST, seq DESC
            """).affectedRows
        let staged = Int(try db.query("SELECT count(*) FROM incidents_stage").scalar ?? "0") ?? 0
        let unassigned = Int(try db.query("SELECT count(*) FROM \(incidents) WHERE run_id = $1 AND district_code IS NULL", [runID]).scalar ?? "0") ?? 0
        try DailyCounts.rebuild(db: db, schema: schema, daysTable: "touched_days")
        return (inserted, staged - inserted, unassigned)
    }
}
