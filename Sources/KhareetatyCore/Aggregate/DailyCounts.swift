import Postgres

/// `district_daily`: incidents per (local_date, district, category) plus category `all`,
/// recomputed from the stored incidents for a set of days, so a re-run gives identical rows.
/// Incidents without a district are not counted here (they are counted as unassigned in the run),
/// nor are month-only ones (their day is unknown: `district_monthly` counts them). The monthly
/// counts of the days' months are rebuilt after the daily ones.
enum DailyCounts {
    /// `monthOnlyStaged`: the run staged month-only incidents. Without them, and with none counted
    /// before in the days' months, both statements leave month-only incidents out of their plans
    /// entirely: a day-only load pays nothing for them.
    /// `distributed`: the schema is on Citus (`Distribution.isDistributed`, which the caller has asked).
    /// `counted`: the counts of new months, summed by the loader (`NewMonthCounts`): their days and
    /// months are written from them, the other days in `daysTable` (and their months) recounted.
    static func rebuild(db: Transaction, schema: String, daysTable: String, distributed: Bool, monthOnlyStaged: Bool = false,
                        counted: NewMonthCounts = NewMonthCounts()) throws {
        let s = quoteIdentifier(schema)
        try db.execute("""
            CREATE TEMPORARY TABLE IF NOT EXISTS touched_months (month date PRIMARY KEY) ON COMMIT DROP;
            TRUNCATE touched_months;
            INSERT INTO touched_months SELECT DISTINCT date_trunc('month', local_date)::date FROM \(daysTable);
            """)
        var recount = daysTable
        if !counted.isEmpty {
            try db.execute("""
                CREATE TEMPORARY TABLE IF NOT EXISTS counted_days (local_date date PRIMARY KEY) ON COMMIT DROP;
                TRUNCATE counted_days;
                CREATE TEMPORARY TABLE IF NOT EXISTS recount_days (local_date date PRIMARY KEY) ON COMMIT DROP;
                TRUNCATE recount_days;
                """)
            try db.query("INSERT INTO counted_days SELECT unnest($1::date[])",
                         [CivilDate.arrayLiteral(days: counted.days)])
            try db.execute("""
                INSERT INTO recount_days SELECT local_date FROM \(daysTable) EXCEPT SELECT local_date FROM counted_days;
                -- A new month had no incidents, so no counts; rows left there by hand would double.
                DELETE FROM \(s).district_daily WHERE local_date = ANY (ARRAY(SELECT local_date FROM counted_days));
                """)
            try db.withCopy(into: "\(s).district_daily", layout: NewMonthCounts.layout) { emit in
                try counted.forEachRow(emit)
            }
            recount = "recount_days"
            // Their months' counts too: written here and left out of the monthly rebuild.
            try db.query("""
                WITH new_months AS (SELECT unnest($1::date[]) AS month),
                     gone AS (DELETE FROM touched_months WHERE month IN (SELECT month FROM new_months))
                DELETE FROM \(s).district_monthly WHERE month IN (SELECT month FROM new_months)
                """, [CivilDate.arrayLiteral(days: counted.months)])
            try db.withCopy(into: "\(s).district_monthly", layout: NewMonthCounts.monthLayout) { emit in
                try counted.forEachMonthRow(emit)
            }
        }
        try recountDays(db: db, schema: schema, daysTable: recount, distributed: distributed, monthOnlyStaged: monthOnlyStaged)
    }

    /// The counts of the days in `daysTable`, from the stored incidents; then the monthly counts of
    /// every month in `touched_months`.
    private static func recountDays(db: Transaction, schema: String, daysTable: String, distributed: Bool, monthOnlyStaged: Bool) throws {
        let s = quoteIdentifier(schema)
        // Month-only incidents of these months were loaded by this run or counted by an earlier
        // rebuild (a run can only take them away: a re-send replaces them).
        let monthOnly = try monthOnlyStaged || db.query("""
            SELECT EXISTS (SELECT 1 FROM \(s).district_monthly WHERE month_only_count > 0 AND month IN (SELECT month FROM touched_months))
            """).scalar == "t"
        // Citus runs no GROUPING SETS on a distributed table: there the categories are counted on the
        // workers and `all` is their sum, from the rows just written (co-located by district).
        try db.execute("""
            -- = ANY(ARRAY(…)), not IN (SELECT …): the days are known before the scan, so the primary key
            -- finds their rows (the semi-join read every count row: 0.3–0.45 s at a million incidents).
            DELETE FROM \(s).district_daily WHERE local_date = ANY (ARRAY(SELECT local_date FROM \(daysTable)));
            INSERT INTO \(s).district_daily (local_date, district_code, category, incident_count)
            SELECT local_date, district_code, \(distributed ? "category" : "coalesce(category, 'all')"), count(*)
            FROM \(s).incidents
            WHERE local_date IN (SELECT local_date FROM \(daysTable)) AND district_code IS NOT NULL
            -- `<> 'month'`, not `= 'day'`: without statistics on the column the planner guesses an equality
            -- keeps 0.5 % of the rows and picks a parallel sort, 200 ms slower on a million rows.
            \(monthOnly ? "AND time_precision <> 'month'" : "")
            GROUP BY \(distributed ? "1, 2, 3" : "GROUPING SETS ((local_date, district_code, category), (local_date, district_code))")
            -- By day, the primary key's leading column: each day's rows land on a few neighbouring
            -- B-tree pages instead of random ones (a year of counts goes in 1.7× faster; sorting on
            -- all three columns costs more in text comparisons than it saves).
            ORDER BY 1;
            """)
        if distributed {
            try db.execute("""
                INSERT INTO \(s).district_daily (local_date, district_code, category, incident_count)
                SELECT local_date, district_code, 'all', sum(incident_count)
                FROM \(s).district_daily
                WHERE local_date = ANY (ARRAY(SELECT local_date FROM \(daysTable))) AND category <> 'all'
                GROUP BY 1, 2;
                """)
        }
        try MonthlyCounts.rebuild(db: db, schema: schema, withMonthOnly: monthOnly, distributed: distributed)
    }
}

/// `district_monthly`: incidents per (month, district, category) plus category `all`, month-only
/// incidents included (and counted apart), for the months in `touched_months`.
enum MonthlyCounts {
    static func rebuild(db: Transaction, schema: String, withMonthOnly: Bool, distributed: Bool) throws {
        let s = quoteIdentifier(schema)
        // Month-only incidents: stored on their month's first day. = ANY(ARRAY(…)): the dates are
        // known before the scan, so each partition's date index answers (IN (SELECT …) scanned
        // every row of every touched month). Citus: no GROUPING SETS, so categories and `all` apart.
        let monthOnlyRows = """
                FROM \(s).incidents
                WHERE local_date = ANY (ARRAY(SELECT month FROM touched_months)) AND time_precision = 'month' AND district_code IS NOT NULL
            """
        let monthOnly = !withMonthOnly ? "" : distributed ? """
                UNION ALL
                SELECT local_date, district_code, category, count(*), count(*) \(monthOnlyRows) GROUP BY 1, 2, 3
                UNION ALL
                SELECT local_date, district_code, 'all', count(*), count(*) \(monthOnlyRows) GROUP BY 1, 2
            """ : """
                UNION ALL
                SELECT local_date, district_code, coalesce(category, 'all'), count(*), count(*) \(monthOnlyRows)
                GROUP BY GROUPING SETS ((local_date, district_code, category), (local_date, district_code))
            """
        try db.execute("""
            DELETE FROM \(s).district_monthly WHERE month = ANY (ARRAY(SELECT month FROM touched_months));
            INSERT INTO \(s).district_monthly (month, district_code, category, incident_count, month_only_count)
            SELECT month, district_code, category, sum(n), sum(month_only) FROM (
                -- Day-precision incidents: from the daily counts just rebuilt (far fewer rows).
                SELECT date_trunc('month', d.local_date)::date AS month, d.district_code, d.category, d.incident_count AS n, 0 AS month_only
                FROM touched_months m
                JOIN \(s).district_daily d ON d.local_date >= m.month AND d.local_date < (m.month + interval '1 month')::date
            \(monthOnly)
            ) counts
            GROUP BY 1, 2, 3;
            """)
    }
}
