import Foundation
import Geo
import Postgres

/// The morning report: one self-contained HTML file (inline SVG and CSS, no script, no network
/// request, no external font) that an analyst opens from disk or gets by mail:
///   - a map of the areas coloured by the change of the last 7 days against the baseline, with the
///     significant Gi* hot- and cold-spot cells over it and the emerging hot spots outlined;
///   - the top areas by count and by change, with sparklines of their last 12 weeks and their
///     Mann-Kendall trend label;
///   - the emerging hot-spot patterns;
///   - the run's accounting, inputs and checksums (the audit record of the night).
/// Names are shown as the boundary file has them and, where the pipeline asks for it
/// (`report.names_language: ar`) and the gazetteer has one, in Arabic (right to left).
/// Palettes are ColorBrewer's colour-blind-safe diverging ones: PuOr for change, RdBu for Gi*.
public struct MorningReport: Sendable {
    public struct Area: Sendable {
        public var code: String
        public var name: String
        public var arabicName: String?
        public var governorate: String?
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
    }

    public struct Cell: Sendable {
        public var corners: [GeoPoint]
        public var bin: Int
        public var count: Int
        public var z: Double
    }

    public struct Run: Sendable {
        public var runID: String
        public var kind: String
        public var status: String
        public var pipeline: String
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
    }

    public var asOf: String
    public var generatedAt: Date
    public var areas: [Area]
    public var hotspotWindow: Int?
    /// The state of that window's analysis: nil (none ran), ok, or insufficient_data, with its incident count and minimum.
    public var hotspotStatus: (status: String, incidents: Int, cellMetres: Double, reason: String)?
    public var emergingStatus: (status: String, stepsWithData: Int)?
    public var cells: [Cell]
    public var emergingPatterns: [(pattern: String, cells: Int)]
    public var emergingCells: [(pattern: String, corners: [GeoPoint])]
    public var run: Run?
    /// Title, names, attribution and inset, from the pipeline.
    public var presentation = ReportSettings()

    // MARK: Loading

    /// Everything the report shows for `asOf`, from the tables of `schema` and the pipeline's layer.
    public static func load(db: PostgresConnection, schema: String, asOf: String, layer: DistrictLayer,
                            presentation: ReportSettings) throws -> MorningReport {
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
        let areas = layer.districts.enumerated().map { index, district in
            let t = trends[district.code]
            return Area(code: district.code, name: district.name,
                        arabicName: presentation.namesLanguage == "ar" ? layer.gazetteer.arabicNames[index] : nil,
                        governorate: district.governorateName, geometry: district.geometry,
                        count7d: t?[1].flatMap { Int($0) }, baseline: t?[2].flatMap { Double($0) },
                        changePct: t?[3].flatMap { Double($0) }, changeLabel: t?[6] ?? nil, changeP: t?[7].flatMap { Double($0) }, trendLabel: t?[4] ?? nil, senSlope: t?[5].flatMap { Double($0) },
                        weekly: weekly[district.code] ?? Array(repeating: 0, count: 12))
        }

        // The shortest hot-spot window of the date ("the last N days"), its grid and cells.
        var cells: [Cell] = [], window: Int?, grid: (tm: TransverseMercator, x: Double, y: Double, size: Double)?
        var hotspotStatus: (String, Int, Double, String)?
        if let g = try db.query("""
            SELECT window_days, projection, origin_x, origin_y, cell_size_m, status, coalesce(n_incidents, 0), coalesce(scale_reason, '')
            FROM \(s).hotspot_grids WHERE as_of_date = $1::date AND analysis = 'hotspot' ORDER BY window_days LIMIT 1
            """, [asOf]).typedRows.first, let tm = TransverseMercator(proj: try g.text(1)) {
            window = try g.int(0)
            grid = (tm, try g.double(2), try g.double(3), try g.double(4))
            hotspotStatus = (try g.text(5), try g.int(6), try g.double(4), try g.text(7))
        }
        let emergingStatus = try db.query("""
            SELECT status, coalesce(steps_with_data, 0) FROM \(s).hotspot_grids WHERE as_of_date = $1::date AND analysis = 'emerging'
            """, [asOf]).typedRows.first.map { (status: try $0.text(0), stepsWithData: try $0.int(1)) }
        func corners(_ c: Int, _ r: Int) -> [GeoPoint] {
            guard let grid else { return [] }
            return [(0, 0), (1, 0), (1, 1), (0, 1)].map { dc, dr in
                grid.tm.inverse(x: grid.x + Double(c + dc) * grid.size, y: grid.y + Double(r + dr) * grid.size)
            }
        }
        if let window {
            cells = try db.query("""
                SELECT cell_col, cell_row, gi_bin, incident_count, gi_z FROM \(s).hotspot_cells
                WHERE as_of_date = $1::date AND window_days = $2 AND gi_bin <> 0 ORDER BY abs(gi_bin), cell_col, cell_row
                """, [asOf, String(window)]).typedRows.map {
                    Cell(corners: corners(try $0.int(0), try $0.int(1)), bin: try $0.int(2), count: try $0.int(3), z: try $0.double(4))
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
            """, [asOf]).typedRows.map { (pattern: try $0.text(0), corners: corners(try $0.int(1), try $0.int(2))) }

        var report = MorningReport(asOf: asOf, generatedAt: Date(), areas: areas, hotspotWindow: window,
                                   hotspotStatus: hotspotStatus.map { (status: $0.0, incidents: $0.1, cellMetres: $0.2, reason: $0.3) },
                                   emergingStatus: emergingStatus, cells: cells,
                                   emergingPatterns: patterns, emergingCells: emergingCells, run: try loadRun(db: db, schema: schema, asOf: asOf))
        report.presentation = presentation
        return report
    }

    /// The latest succeeded run that reported on `asOf`.
    static func loadRun(db: PostgresConnection, schema: String, asOf: String) throws -> Run? {
        let s = quoteIdentifier(schema)
        guard let r = try db.query("""
            SELECT run_id, kind, status, pipeline, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
                   extract(epoch FROM finished_at - started_at)::float8, rows_read, rows_loaded, rows_rejected, rows_duplicate,
                   rows_unassigned, pipeline_sha256, rows_month_only
            FROM \(s).pipeline_runs WHERE as_of_date = $1::date AND status = 'succeeded' AND kind <> 'backfill'
            ORDER BY finished_at DESC LIMIT 1
            """, [asOf]).typedRows.first else { return nil }
        let id = try r.text(0)
        func pairs(_ column: String) throws -> [(String, Int)] {
            try db.query("SELECT key, value::int FROM \(s).pipeline_runs, jsonb_each_text(\(column)) WHERE run_id = $1 ORDER BY 2 DESC, 1", [id])
                .typedRows.map { (try $0.text(0), try $0.int(1)) }
        }
        let inputs = try db.query("""
            SELECT i->>'path', (i->>'bytes')::bigint, i->>'sha256', coalesce((i->>'rows_read')::bigint, 0), i->>'skipped'
            FROM \(s).pipeline_runs, jsonb_array_elements(inputs) i WHERE run_id = $1
            """, [id]).typedRows.map { (path: try $0.text(0), bytes: try $0.int(1), sha256: try $0.text(2), read: try $0.int(3), skipped: $0[4]) }
        func int(_ i: Int) -> Int { r[i].flatMap { Int($0) } ?? 0 }
        var run = Run(runID: id, kind: try r.text(1), status: try r.text(2), pipeline: try r.text(3), started: try r.text(4), seconds: r[5].flatMap { Double($0) },
                      read: int(6), loaded: int(7), rejected: int(8), duplicates: int(9), unassigned: int(10),
                      rejectsByReason: try pairs("rejects_by_reason"), geocodeMethods: try pairs("geocode_methods"), inputs: inputs, pipelineSHA256: r[11])
        run.monthOnly = int(12)
        run.flags = try pairs("flags")
        return run
    }
}

// MARK: Rendering

extension MorningReport {
    /// PuOr (ColorBrewer, colour-blind safe): orange for more incidents, purple for fewer — only where
    /// the exact test on the counts says so (district_trends.change_label, change_p); grey where the
    /// counts are too few to tell or the history does not cover the baseline yet.
    /// (legend, colour, change_label, p below 0.01: true / false / either).
    static let changeClasses: [(label: String, colour: String, changeLabel: String, strong: Bool?)] = [
        ("increase, p < 0.01", "#b35806", "increase", true),
        ("increase, p < 0.05", "#f1a340", "increase", false),
        ("no significant change", "#f7f7f7", "no_change", nil),
        ("decrease, p < 0.05", "#998ec3", "decrease", false),
        ("decrease, p < 0.01", "#542788", "decrease", true),
        ("too few incidents to tell", "#bdbdbd", "too_few", nil),
    ]
    static let noBaselineColour = "#e0e0e0"

    /// RdBu (ColorBrewer, colour-blind safe) for Gi* bins +3 … −3.
    static let binColours: [Int: String] = [3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"]
    static let binLabels: [Int: String] = [3: "hot spot, 99% confidence", 2: "hot spot, 95%", 1: "hot spot, 90%",
                                           -1: "cold spot, 90%", -2: "cold spot, 95%", -3: "cold spot, 99%"]

    /// The change used for colour: change %, or "new" (+∞) when there was no baseline but incidents now.
    func changeValue(_ area: Area) -> Double? {
        if let change = area.changePct { return change }
        if let count = area.count7d, area.baseline == 0 { return count > 0 ? .infinity : 0 }
        return nil
    }

    func colour(_ area: Area) -> String {
        let strong = (area.changeP ?? 1) < 0.01
        return Self.changeClasses.first { $0.changeLabel == area.changeLabel && ($0.strong == nil || $0.strong == strong) }?.colour
            ?? Self.noBaselineColour
    }

    public func html() -> String {
        let p = presentation
        let map = mapSVG(width: 780, classes: "area")
        // The inset the pipeline asks for (e.g. a coast where most areas are a few km² wide),
        // unless its areas span most of the map anyway: then it would repeat the map.
        var inset = ""
        if let limit = p.insetMaxAreaKm2 {
            var small = BoundingBox(minLon: .infinity, minLat: .infinity, maxLon: -.infinity, maxLat: -.infinity)
            var all = small
            for area in areas {
                all.extend(area.geometry.boundingBox)
                if area.geometry.areaKm2 < limit { small.extend(area.geometry.boundingBox) }
            }
            func span(_ b: BoundingBox) -> Double { (b.maxLon - b.minLon) * (b.maxLat - b.minLat) }
            if small.minLon.isFinite && span(small) < 0.5 * span(all) { inset = mapSVG(width: 780, classes: "inset", focus: small) }
        }
        let localTitle = p.localTitle.map { title in
            let lang = p.localTitleLanguage.map { " lang=\"\(h($0))\"" } ?? ""
            return " <span class=\"ar\"\(lang)\(p.localTitleIsRightToLeft ? " dir=\"rtl\"" : "")>\(h(title))</span>"
        } ?? ""
        let byCount = areas.filter { ($0.count7d ?? 0) > 0 }.sorted { ($0.count7d!, $1.name) > ($1.count7d!, $0.name) }.prefix(10)
        let byChange = areas.filter { ($0.baseline ?? 0) >= 2 && $0.changePct != nil }
            .sorted { ($0.changePct!, $1.name) > ($1.changePct!, $0.name) }.prefix(10)
        let total7 = areas.reduce(0) { $0 + ($1.count7d ?? 0) }
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(h(p.title)) — \(h(asOf))</title>
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 24px; color: #222; max-width: 1180px; }
            h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
            .sub { color: #555; margin: 0 0 16px; } .grid { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
            table { border-collapse: collapse; font-size: 13px; } th, td { padding: 3px 8px; text-align: left; border-bottom: 1px solid #eee; }
            td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; } .ar { font-size: 14px; }
            .legend { font-size: 12px; } .legend div { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
            .sw { width: 14px; height: 14px; border: 1px solid #999; display: inline-block; }
            .label-rising { color: #b35806; font-weight: 600; } .label-falling { color: #542788; font-weight: 600; }
            .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 11px; word-break: break-all; }
            .ok { color: #1a7f37; font-weight: 600; } .bad { color: #b00020; font-weight: 600; }
            path.area, path.inset { stroke: #666; stroke-width: 0.5; } path.cell { stroke: none; } path.emerging { fill: none; stroke: #000; stroke-width: 0.8; stroke-dasharray: 2 1.5; }
            .legend { max-width: 250px; } figure { margin: 0; } figcaption { font-size: 12px; color: #555; }
            </style>
            </head>
            <body>
            <h1>\(h(p.title))\(localTitle)</h1>
            <p class="sub">As of \(h(asOf)) · \(total7) incidents in the last 7 days across \(areas.count) areas · generated \(h(Self.timestamp(generatedAt)))</p>
            <div class="grid">
            <figure>\(map)<figcaption>All areas.</figcaption></figure>
            \(legend())
            </div>
            \(inset.isEmpty ? "" : "<figure>\(inset)<figcaption>\(h(p.insetCaption))</figcaption></figure>")

            """
        out += "<h2>Top areas by incidents, last 7 days</h2>\n" + areaTable(Array(byCount))
        out += "<h2>Largest increases against the baseline (areas with a baseline of 2 or more a week)</h2>\n" + areaTable(Array(byChange))
        out += "<h2>Emerging hot spots (weekly Gi* trend, ArcGIS patterns)</h2>\n" + emergingTable()
        out += "<h2>The run: accounting and inputs</h2>\n" + runSection()
        out += """
            <p class="sub">\(p.attribution.map { h($0) + " " } ?? "")Change: last 7 days against the four weeks before, judged by an exact test on the counts (colour only where p < 0.05).
            Hot spots: Getis-Ord Gi* on a grid sized from the incidents' spacing, significance exact under complete spatial randomness, FDR-corrected. Trend: Mann-Kendall on the last 12 weekly counts.</p>
            </body>
            </html>

            """
        return out
    }

    /// The areas and cells, projected with a Transverse Mercator centred on the areas (metres,
    /// so shapes and distances are true), scaled to `width` pixels, north up: the whole layer, or
    /// the `focus` box of it (what lies outside is clipped by the SVG's viewport). Area paths get
    /// the class `classes`, so each map holds exactly one path per area.
    func mapSVG(width: Double, classes: String, focus: BoundingBox? = nil) -> String {
        var box = BoundingBox(minLon: .infinity, minLat: .infinity, maxLon: -.infinity, maxLat: -.infinity)
        for area in areas { box.extend(area.geometry.boundingBox) }
        let tm = TransverseMercator(lon0: (box.minLon + box.maxLon) / 2, lat0: (box.minLat + box.maxLat) / 2)
        var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
        let extent = focus.map { f in [GeoPoint(lon: f.minLon, lat: f.minLat), GeoPoint(lon: f.maxLon, lat: f.maxLat),
                                       GeoPoint(lon: f.minLon, lat: f.maxLat), GeoPoint(lon: f.maxLon, lat: f.minLat)] }
            ?? areas.flatMap { $0.geometry.rings.flatMap(\.points) }
        for p in extent {
            let (x, y) = tm.forward(p)
            minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
        }
        let pad = 8.0, scale = (width - 2 * pad) / max(maxX - minX, 1)
        let height = ((maxY - minY) * scale + 2 * pad).rounded()
        func point(_ p: GeoPoint) -> String {
            let (x, y) = tm.forward(p)
            return String(format: "%.1f,%.1f", pad + (x - minX) * scale, pad + (maxY - y) * scale)
        }
        func ring(_ points: [GeoPoint]) -> String { "M" + points.map(point).joined(separator: "L") + "Z" }

        var svg = "<svg role=\"img\" aria-label=\"Map of \(h(presentation.mapLabel))\(focus == nil ? "" : ", enlarged") coloured by the change of the last 7 days\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#eef3f7\"/>\n<g id=\"areas\">\n"
        for area in areas {
            let d = area.geometry.rings.map { ring($0.points) }.joined()
            var title = area.name + (area.arabicName.map { " · " + $0 } ?? "")
            if let count = area.count7d { title += ": \(count) in 7 days" }
            if let value = changeValue(area) { title += value.isInfinite ? " (new)" : String(format: " (%+.0f%%)", value) }
            svg += "<path class=\"\(classes)\" data-code=\"\(h(area.code))\" fill=\"\(colour(area))\" fill-rule=\"evenodd\" d=\"\(d)\"><title>\(h(title))</title></path>\n"
        }
        svg += "</g>\n<g id=\"hotspots\">\n"
        for cell in cells {
            svg += "<path class=\"cell\" fill=\"\(Self.binColours[cell.bin] ?? "#fff")\" d=\"\(ring(cell.corners))\"><title>\(h(Self.binLabels[cell.bin] ?? "")), \(cell.count) incidents, z = \(String(format: "%.2f", cell.z))</title></path>\n"
        }
        svg += "</g>\n<g id=\"emerging\">\n"
        for cell in emergingCells {
            svg += "<path class=\"emerging\" d=\"\(ring(cell.corners))\"><title>\(h(Self.patternName(cell.pattern)))</title></path>\n"
        }
        return svg + "</g>\n</svg>"
    }

    func legend() -> String {
        var out = "<div class=\"legend\"><strong>Change, last 7 days vs the four weeks before (exact test)</strong>\n"
        for c in Self.changeClasses { out += "<div><span class=\"sw\" style=\"background:\(c.colour)\"></span>\(h(c.label))</div>\n" }
        out += "<div><span class=\"sw\" style=\"background:\(Self.noBaselineColour)\"></span>no baseline yet (history shorter than 5 weeks)</div>\n"
        if let status = hotspotStatus, status.status != "ok", let hotspotWindow {
            out += "<br><strong>Hot spots, last \(hotspotWindow) days</strong>\n"
            out += "<div class=\"insufficient\">Too few incidents for a hot-spot analysis: \(status.incidents) in the study area, "
                + "at least \(Self.minimumHotspotIncidents) needed. No cell is marked.</div>\n"
        } else if let hotspotWindow {
            out += "<br><strong>Gi* hot and cold spots, last \(hotspotWindow) days</strong>\n"
            for bin in [3, 2, 1, -1, -2, -3] {
                out += "<div><span class=\"sw\" style=\"background:\(Self.binColours[bin]!)\"></span>\(h(Self.binLabels[bin]!))</div>\n"
            }
            out += "<div><span class=\"sw\" style=\"border:1.5px dashed #000\"></span>emerging hot spot (new, consecutive, intensifying, persistent)</div>\n"
            out += "<div>\(cells.count) significant cells (\(Int(hotspotStatus?.cellMetres ?? 0)) m, FDR-corrected)</div>\n"
        } else {
            out += "<br>No hot-spot analysis for this date.\n"
        }
        return out + "</div>"
    }

    func areaTable(_ rows: [Area]) -> String {
        guard !rows.isEmpty else { return "<p>No incidents in the last 7 days.</p>\n" }
        // A second name and a region only where the pipeline has them: no empty columns.
        let names = presentation.namesLanguage != nil && areas.contains { $0.arabicName != nil }
        let regions = areas.contains { $0.governorate != nil }
        let namesCell = { (area: Area) -> String in
            let lang = self.presentation.namesLanguage.map { " lang=\"\(self.h($0))\"" } ?? ""
            return "<td class=\"ar\"\(lang)\(self.presentation.namesAreRightToLeft ? " dir=\"rtl\"" : "")>\(self.h(area.arabicName ?? ""))</td>"
        }
        var out = "<table><thead><tr><th>Area</th>" + (names ? "<th>\(h(presentation.namesHeading))</th>" : "")
            + (regions ? "<th>\(h(presentation.regionHeading))</th>" : "") + "<th class=\"n\">7 days</th><th class=\"n\">baseline</th>"
            + "<th class=\"n\">change</th><th>12 weeks</th><th>trend (Mann-Kendall)</th></tr></thead><tbody>\n"
        for area in rows {
            let change = changeValue(area).map { $0.isInfinite ? "new" : String(format: "%+.0f%%", $0) } ?? "—"
            let label = area.trendLabel ?? "—"
            let slope = area.senSlope.map { String(format: " (%+.1f/week)", $0) } ?? ""
            out += "<tr><td>\(h(area.name))</td>" + (names ? namesCell(area) : "") + (regions ? "<td>\(h(area.governorate ?? ""))</td>" : "")
                + "<td class=\"n\">\(area.count7d ?? 0)</td><td class=\"n\">\(area.baseline.map { String(format: "%.1f", $0) } ?? "—")</td>"
                + "<td class=\"n\">\(change)</td><td>\(sparkline(area.weekly))</td>"
                + "<td class=\"label-\(h(label))\">\(h(label.replacingOccurrences(of: "_", with: " ")))\(label == "rising" || label == "falling" ? slope : "")</td></tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    /// 12 weekly counts as a small line, the last week marked.
    func sparkline(_ values: [Int]) -> String {
        let w = 110.0, hgt = 22.0, top = Double(max(values.max() ?? 0, 1))
        let points = values.enumerated().map { i, v in
            String(format: "%.1f,%.1f", 2 + Double(i) * (w - 4) / Double(max(values.count - 1, 1)), hgt - 2 - Double(v) / top * (hgt - 4))
        }
        let last = points.last ?? "0,0"
        let parts = last.split(separator: ",")
        return "<svg class=\"spark\" width=\"\(Int(w))\" height=\"\(Int(hgt))\" viewBox=\"0 0 \(Int(w)) \(Int(hgt))\" role=\"img\" aria-label=\"weekly counts: \(values.map(String.init).joined(separator: ", "))\">"
            + "<polyline fill=\"none\" stroke=\"#444\" stroke-width=\"1.2\" points=\"\(points.joined(separator: " "))\"/>"
            + "<circle cx=\"\(parts[0])\" cy=\"\(parts[1])\" r=\"2\" fill=\"#b35806\"/></svg>"
    }

    func emergingTable() -> String {
        if let emergingStatus, emergingStatus.status != "ok" {
            return "<p>Not enough history for emerging hot spots: \(emergingStatus.stepsWithData) weekly steps with enough incidents, "
                + "at least \(Self.minimumEmergingSteps) needed. No pattern is named.</p>\n"
        }
        guard !emergingPatterns.isEmpty else { return "<p>No emerging hot or cold spots for this date.</p>\n" }
        var out = "<table><thead><tr><th>pattern</th><th class=\"n\">cells</th></tr></thead><tbody>\n"
        for (pattern, n) in emergingPatterns { out += "<tr><td>\(h(Self.patternName(pattern)))</td><td class=\"n\">\(n)</td></tr>\n" }
        return out + "</tbody></table>\n"
    }

    func runSection() -> String {
        guard let run else { return "<p>No succeeded run reported on this date.</p>\n" }
        let holds = run.read == run.loaded + run.rejected + run.duplicates
        var out = "<p>Run <span class=\"mono\">\(h(run.runID))</span> (\(h(run.kind)), \(h(run.status))), pipeline \(h(run.pipeline)), started \(h(run.started))"
            + (run.seconds.map { String(format: ", %.1f s", $0) } ?? "") + ".</p>\n"
        out += "<p>read \(run.read) = loaded \(run.loaded) + rejected \(run.rejected) + duplicates \(run.duplicates) "
            + (holds ? "<span class=\"ok\">✓ adds up</span>" : "<span class=\"bad\">✗ does not add up</span>") + " · unassigned \(run.unassigned)"
            + (run.monthOnly > 0 ? " · known only to the month \(run.monthOnly) (in the monthly counts; not in the daily counts, trends or hot spots)" : "")
            + "</p>\n"
        out += "<div class=\"grid\"><table><thead><tr><th>rejected, by reason</th><th class=\"n\">rows</th></tr></thead><tbody>\n"
        for (reason, n) in run.rejectsByReason { out += "<tr><td>\(h(reason))</td><td class=\"n\">\(n)</td></tr>\n" }
        out += "</tbody></table><table><thead><tr><th>geocoded, by method</th><th class=\"n\">rows</th></tr></thead><tbody>\n"
        for (method, n) in run.geocodeMethods { out += "<tr><td>\(h(method))</td><td class=\"n\">\(n)</td></tr>\n" }
        if !run.flags.isEmpty {
            out += "</tbody></table><table><thead><tr><th>kept, flagged</th><th class=\"n\">rows</th></tr></thead><tbody>\n"
            for (flag, n) in run.flags { out += "<tr><td>\(h(flag))</td><td class=\"n\">\(n)</td></tr>\n" }
        }
        out += "</tbody></table></div>\n<table><thead><tr><th>input</th><th class=\"n\">bytes</th><th class=\"n\">rows read</th><th>SHA-256</th></tr></thead><tbody>\n"
        for input in run.inputs {
            out += "<tr><td>\(h(input.path))\(input.skipped.map { " <em>(skipped: \(h($0)))</em>" } ?? "")</td><td class=\"n\">\(input.bytes)</td>"
                + "<td class=\"n\">\(input.read)</td><td class=\"mono\">\(h(input.sha256))</td></tr>\n"
        }
        out += "</tbody></table>\n"
        if let sha = run.pipelineSHA256 { out += "<p>Pipeline rules SHA-256: <span class=\"mono\">\(h(sha))</span></p>\n" }
        return out
    }

    /// The defaults the report names when an analysis had too little data (the grid row holds the counts).
    static let minimumHotspotIncidents = AggregateSettings.Hotspot().minIncidents
    static let minimumEmergingSteps = AggregateSettings.Hotspot().emergingMinSteps

    static func patternName(_ raw: String) -> String {
        raw.replacingOccurrences(of: "_", with: " ").capitalizedFirst
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// HTML-escaped text.
    func h(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Writes the report beside its final name and renames it into place.
    public func write(to path: String) throws {
        try AtomicFile.write(Data(html().utf8), to: path)
    }
}

private extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
