import Foundation
import Geo
import Postgres

/// The morning report: one self-contained HTML file (inline SVG and CSS, no script, no network
/// request, no external font) that an analyst opens from disk, on a phone or gets by mail:
///   - a map of the areas coloured by the change of the last 7 days against the baseline, with the
///     significant Gi* hot- and cold-spot cells over it (adjacent ones merged into outlines), the
///     emerging hot spots outlined, the top areas named and a scale bar; an enlarged inset of the
///     densest group of small areas where the pipeline asks for one;
///   - the top areas by count and by change, with sparklines of their last 12 weeks and their
///     Mann-Kendall trend label;
///   - the emerging hot-spot patterns;
///   - the audit: every run that loaded the incidents of the last 7 days, with its accounting,
///     inputs and checksums, and the run that computed the aggregates.
/// Times are in the pipeline's zone. Names are shown as the boundary file has them (underscores
/// read as spaces) and, where the pipeline asks for it (`report.names_language: ar`) and the
/// gazetteer has one, in Arabic (right to left). Palettes are ColorBrewer's colour-blind-safe
/// diverging ones: PuOr for change, RdBu for Gi*. Rendering: ReportHTML.swift and ReportMap.swift;
/// PDF and PNG: HeadlessBrowser.swift.
public struct MorningReport: Sendable {
    public struct Area: Sendable {
        public var code: String
        public var name: String
        public var arabicName: String?
        public var governorate: String?
        public var governorateArabicName: String?
        public var geometry: MultiPolygon
        public var count7d: Int?
        public var baseline: Double?
        public var changePct: Double?
        /// increase / decrease / no_change / too_few / insufficient_data (district_trends.change_label).
        public var changeLabel: String?
        public var changeP: Double?
        public var trendLabel: String?
        public var senSlope: Double?
        /// Incidents per week, the last 12 weeks ending on the as-of date, oldest first.
        public var weekly: [Int]
        /// The name as people read it: the boundary file's underscores as spaces, "Al- X" as "Al-X".
        public var displayName: String { MorningReport.displayName(name) }
    }

    /// A hot-spot or emerging analysis' grid: cell (col, row) spans [col, col+1] × [row, row+1]
    /// cell sizes in its transverse Mercator projection.
    public struct CellGrid: Sendable {
        public var projection: TransverseMercator
        public var originX: Double, originY: Double, size: Double
        public func corner(_ col: Int, _ row: Int) -> GeoPoint {
            projection.inverse(x: originX + Double(col) * size, y: originY + Double(row) * size)
        }
    }

    public struct Cell: Sendable {
        public var col: Int, row: Int
        public var bin: Int
        public var count: Int
        public var z: Double
    }

    public struct Run: Sendable {
        public var runID: String
        public var kind: String
        public var status: String
        public var pipeline: String
        /// When it started, in the pipeline's zone.
        public var started: String
        public var seconds: Double?
        public var read: Int, loaded: Int, rejected: Int, duplicates: Int, unassigned: Int
        public var rejectsByReason: [(String, Int)]
        public var geocodeMethods: [(String, Int)]
        public var inputs: [(path: String, bytes: Int, sha256: String, read: Int, skipped: String?)]
        public var pipelineSHA256: String?
        /// Loaded incidents known only to the month (in the monthly counts only).
        public var monthOnly = 0
        /// Kept incidents by flag (swapped coordinates, area code disagreeing with the point, …).
        public var flags: [(String, Int)] = []
        /// Of the incidents of the report's last 7 days, how many this run's load holds.
        public var incidentsInWindow = 0
        /// The as-of date it computed aggregates for.
        public var asOfDate: String?
    }

    public var asOf: String
    public var generatedAt: Date
    /// The pipeline's zone: every time of day shown is in it.
    public var timeZone = TimeZone(identifier: "UTC")!
    public var areas: [Area]
    public var hotspotWindow: Int?
    /// The state of that window's analysis: nil (none ran), ok, or insufficient_data, with its incident count and minimum.
    public var hotspotStatus: (status: String, incidents: Int, cellMetres: Double, reason: String)?
    public var emergingStatus: (status: String, stepsWithData: Int)?
    public var hotspotGrid: CellGrid?
    public var cells: [Cell]
    public var emergingPatterns: [(pattern: String, cells: Int)]
    public var emergingGrid: CellGrid?
    public var emergingCells: [(pattern: String, col: Int, row: Int)]
    /// The runs whose loads hold the incidents of the last 7 days, oldest first.
    public var loadingRuns: [Run] = []
    /// The latest succeeded run that computed the aggregates of this date.
    public var aggregatesRun: Run?
    /// Whether any aggregate (trends or hot spots) exists for the date; when not, the first and
    /// last day with incidents say what to run.
    public var hasAggregates = true
    public var incidentSpan: (first: String, last: String)?
    /// The first and last month of incidents dated to the month only (their own table: district_monthly).
    public var monthOnlySpan: (first: String, last: String)?
    /// Title, names, attribution and inset, from the pipeline.
    public var presentation = ReportSettings()

    /// The run shown first (tests and callers that knew one run): the aggregates' run.
    public var run: Run? { aggregatesRun ?? loadingRuns.last }

    // MARK: Loading

    /// Everything the report shows for `asOf`, from the tables of `schema` and the pipeline's layer.
    public static func load(db: PostgresConnection, schema: String, asOf: String, layer: DistrictLayer,
                            presentation: ReportSettings, timeZone: TimeZone = TimeZone(identifier: "UTC")!) throws -> MorningReport {
        let s = quoteIdentifier(schema)
        var trends: [String: [String?]] = [:]
        for row in try db.query("""
            SELECT district_code, count_7d::text, baseline_7d::text, change_pct::text, trend_label, sen_slope::text, change_label, change_p::text
            FROM \(s).district_trends WHERE as_of_date = $1::date AND category = 'all'
            """, [asOf]).typedRows { trends[try row.text(0)] = row.values }
        var weekly: [String: [Int]] = [:]
        for row in try db.query("""
            SELECT district_code, 11 - ($1::date - local_date) / 7, sum(incident_count)
            FROM \(s).district_daily WHERE category = 'all' AND local_date > $1::date - 84 AND local_date <= $1::date
            GROUP BY 1, 2
            """, [asOf]).typedRows {
            let week = try row.int(1)
            guard (0..<12).contains(week) else { continue }
            weekly[try row.text(0), default: Array(repeating: 0, count: 12)][week] = try row.int(2)
        }
        let arabic = presentation.namesLanguage == "ar"
        let areas = layer.districts.enumerated().map { index, district in
            let t = trends[district.code]
            return Area(code: district.code, name: district.name,
                        arabicName: arabic ? layer.gazetteer.arabicNames[index] : nil,
                        governorate: district.governorateName,
                        governorateArabicName: arabic ? district.governorateCode.flatMap { layer.gazetteer.governorateArabicNames[$0] } : nil,
                        geometry: district.geometry,
                        count7d: t?[1].flatMap { Int($0) }, baseline: t?[2].flatMap { Double($0) },
                        changePct: t?[3].flatMap { Double($0) }, changeLabel: t?[6] ?? nil, changeP: t?[7].flatMap { Double($0) }, trendLabel: t?[4] ?? nil, senSlope: t?[5].flatMap { Double($0) },
                        weekly: weekly[district.code] ?? Array(repeating: 0, count: 12))
        }

        func grid(_ row: QueryResult.Row, from: Int) throws -> CellGrid? {
            guard let tm = TransverseMercator(proj: try row.text(from)) else { return nil }
            return CellGrid(projection: tm, originX: try row.double(from + 1), originY: try row.double(from + 2), size: try row.double(from + 3))
        }
        // The shortest hot-spot window of the date ("the last N days"), its grid and cells.
        var cells: [Cell] = [], window: Int?, hotspotGrid: CellGrid?
        var hotspotStatus: (String, Int, Double, String)?
        if let g = try db.query("""
            SELECT window_days, projection, origin_x, origin_y, cell_size_m, status, coalesce(n_incidents, 0), coalesce(scale_reason, '')
            FROM \(s).hotspot_grids WHERE as_of_date = $1::date AND analysis = 'hotspot' ORDER BY window_days LIMIT 1
            """, [asOf]).typedRows.first, let cellGrid = try grid(g, from: 1) {
            window = try g.int(0)
            hotspotGrid = cellGrid
            hotspotStatus = (try g.text(5), try g.int(6), try g.double(4), try g.text(7))
        }
        var emergingStatus: (status: String, stepsWithData: Int)?, emergingGrid: CellGrid?
        if let e = try db.query("""
            SELECT status, coalesce(steps_with_data, 0), projection, origin_x, origin_y, cell_size_m
            FROM \(s).hotspot_grids WHERE as_of_date = $1::date AND analysis = 'emerging'
            """, [asOf]).typedRows.first {
            emergingStatus = (try e.text(0), try e.int(1))
            emergingGrid = try grid(e, from: 2)
        }
        if let window {
            cells = try db.query("""
                SELECT cell_col, cell_row, gi_bin, incident_count, gi_z FROM \(s).hotspot_cells
                WHERE as_of_date = $1::date AND window_days = $2 AND gi_bin <> 0 ORDER BY abs(gi_bin), cell_col, cell_row
                """, [asOf, String(window)]).typedRows.map {
                    Cell(col: try $0.int(0), row: try $0.int(1), bin: try $0.int(2), count: try $0.int(3), z: try $0.double(4))
                }
        }
        let patterns = try db.query("""
            SELECT pattern, count(*) FROM \(s).emerging_hotspots WHERE as_of_date = $1::date AND pattern <> 'no_pattern'
            GROUP BY 1 ORDER BY 2 DESC, 1
            """, [asOf]).typedRows.map { (pattern: try $0.text(0), cells: try $0.int(1)) }
        let emergingCells = try db.query("""
            SELECT pattern, cell_col, cell_row FROM \(s).emerging_hotspots
            WHERE as_of_date = $1::date AND pattern IN ('new_hot_spot', 'consecutive_hot_spot', 'intensifying_hot_spot', 'persistent_hot_spot')
            ORDER BY 2, 3
            """, [asOf]).typedRows.map { (pattern: try $0.text(0), col: try $0.int(1), row: try $0.int(2)) }

        var report = MorningReport(asOf: asOf, generatedAt: Date(), timeZone: timeZone, areas: areas, hotspotWindow: window,
                                   hotspotStatus: hotspotStatus.map { (status: $0.0, incidents: $0.1, cellMetres: $0.2, reason: $0.3) },
                                   emergingStatus: emergingStatus, hotspotGrid: hotspotGrid, cells: cells,
                                   emergingPatterns: patterns, emergingGrid: emergingGrid, emergingCells: emergingCells)
        report.presentation = presentation
        report.hasAggregates = !trends.isEmpty || hotspotStatus != nil || emergingStatus != nil
        if let span = try db.query("""
            SELECT min(local_date)::text, max(local_date)::text FROM \(s).incidents WHERE time_precision = 'day'
            """).typedRows.first, let first = span[0], let last = span[1] {
            report.incidentSpan = (first, last)
        }
        if let span = try db.query("""
            SELECT to_char(min(local_date), 'YYYY-MM'), to_char(max(local_date), 'YYYY-MM') FROM \(s).incidents WHERE time_precision = 'month'
            """).typedRows.first, let first = span[0], let last = span[1] {
            report.monthOnlySpan = (first, last)
        }
        let zone = timeZone.identifier
        // Who loaded the last 7 days' incidents (each incident names the run whose load holds it),
        // month-only ones of those days' months included: their run is part of the week's record too.
        var inWindow: [String: Int] = [:]
        for row in try db.query("""
            SELECT run_id::text, count(*) FILTER (WHERE time_precision = 'day') FROM \(s).incidents
            WHERE (local_date BETWEEN $1::date - 6 AND $1::date AND time_precision = 'day')
               OR (local_date BETWEEN date_trunc('month', $1::date - 6)::date AND $1::date AND time_precision = 'month')
            GROUP BY 1
            """, [asOf]).typedRows { inWindow[try row.text(0)] = try row.int(1) }
        report.loadingRuns = try inWindow.keys.compactMap { try loadRun(db: db, schema: schema, id: $0, zone: zone) }
            .map { run in var run = run; run.incidentsInWindow = inWindow[run.runID] ?? 0; return run }
            .sorted { $0.started < $1.started }
        if let id = try db.query("""
            SELECT run_id::text FROM \(s).pipeline_runs WHERE as_of_date = $1::date AND status = 'succeeded' AND kind <> 'backfill'
            ORDER BY finished_at DESC LIMIT 1
            """, [asOf]).scalar {
            report.aggregatesRun = try loadRun(db: db, schema: schema, id: id, zone: zone)
        }
        return report
    }

    /// One run of the ledger, its times in `zone`.
    static func loadRun(db: PostgresConnection, schema: String, id: String, zone: String) throws -> Run? {
        let s = quoteIdentifier(schema)
        guard let r = try db.query("""
            SELECT run_id, kind, status, pipeline, to_char(started_at AT TIME ZONE $2, 'YYYY-MM-DD HH24:MI:SS'),
                   extract(epoch FROM finished_at - started_at)::float8, rows_read, rows_loaded, rows_rejected, rows_duplicate,
                   rows_unassigned, pipeline_sha256, rows_month_only, as_of_date::text
            FROM \(s).pipeline_runs WHERE run_id = $1::uuid
            """, [id, zone]).typedRows.first else { return nil }
        func pairs(_ column: String) throws -> [(String, Int)] {
            try db.query("SELECT key, value::int FROM \(s).pipeline_runs, jsonb_each_text(\(column)) WHERE run_id = $1 ORDER BY 2 DESC, 1", [id])
                .typedRows.map { (try $0.text(0), try $0.int(1)) }
        }
        let inputs = try db.query("""
            SELECT i->>'path', (i->>'bytes')::bigint, i->>'sha256', coalesce((i->>'rows_read')::bigint, 0), i->>'skipped'
            FROM \(s).pipeline_runs, jsonb_array_elements(inputs) i WHERE run_id = $1
            """, [id]).typedRows.map { (path: try $0.text(0), bytes: try $0.int(1), sha256: try $0.text(2), read: try $0.int(3), skipped: $0[4]) }
        func int(_ i: Int) -> Int { r[i].flatMap { Int($0) } ?? 0 }
        var run = Run(runID: try r.text(0), kind: try r.text(1), status: try r.text(2), pipeline: try r.text(3), started: try r.text(4),
                      seconds: r[5].flatMap { Double($0) },
                      read: int(6), loaded: int(7), rejected: int(8), duplicates: int(9), unassigned: int(10),
                      rejectsByReason: try pairs("rejects_by_reason"), geocodeMethods: try pairs("geocode_methods"), inputs: inputs, pipelineSHA256: r[11])
        run.monthOnly = int(12)
        run.flags = try pairs("flags")
        run.asOfDate = r[13]
        return run
    }

    /// A boundary name as people read it: underscores are spaces, runs of spaces one, and a space
    /// after a hyphen that follows a letter is dropped ("Jleeb_Al- Shiyoukh" → "Jleeb Al-Shiyoukh").
    public static func displayName(_ raw: String) -> String {
        raw.replacingOccurrences(of: "_", with: " ")
            .replacingOccurrences(of: #"(\p{L})- +"#, with: "$1-", options: .regularExpression)
            .replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression)
            .trimmingCharacters(in: .whitespaces)
    }
}
