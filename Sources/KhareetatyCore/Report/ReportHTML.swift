import Foundation
import Geo

/// The report's page: responsive (the maps scale to the viewport; below 600 px wide the tables
/// stack, one labelled line per value), printable (colours kept, nothing split across pages) and
/// self-contained.
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

    /// The areas of the first table: the most incidents in the last 7 days.
    var topByCount: [Area] {
        Array(areas.filter { ($0.count7d ?? 0) > 0 }.sorted { ($0.count7d!, $1.name) > ($1.count7d!, $0.name) }.prefix(10))
    }

    public func html() -> String {
        let p = presentation
        let focus = insetFocus()
        // Each top area is named on the map that shows it best: the inset when it lies in it.
        let top = topByCount
        let insetLabelled = focus.map { f in top.filter { f.contains(Self.centre($0.geometry)) } } ?? []
        let mainLabelled = top.filter { area in !insetLabelled.contains { $0.code == area.code } }
        let map = mapSVG(width: 780, classes: "area", kind: .whole, labelled: mainLabelled)
        let inset = focus.map { mapSVG(width: 780, classes: "inset", kind: .inset($0), labelled: insetLabelled) } ?? ""
        let localTitle = p.localTitle.map { title in
            let lang = p.localTitleLanguage.map { " lang=\"\(h($0))\"" } ?? ""
            return " <span class=\"local\"\(lang)\(p.localTitleIsRightToLeft ? " dir=\"rtl\"" : "")>\(h(title))</span>"
        } ?? ""
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
            * { box-sizing: border-box; }
            body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 24px auto; padding: 0 24px; color: #222; max-width: 1180px;
                   -webkit-print-color-adjust: exact; print-color-adjust: exact; overflow-wrap: anywhere; }
            h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
            .sub { color: #555; margin: 0 0 16px; } .grid { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
            table { border-collapse: collapse; font-size: 13px; max-width: 100%; } th, td { padding: 3px 8px; text-align: left; border-bottom: 1px solid #eee; vertical-align: top; }
            td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; } .ar { font-size: 14px; }
            [dir="rtl"] { text-align: right; }
            .legend { font-size: 12px; max-width: 260px; } .legend div { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
            .sw { width: 14px; height: 14px; border: 1px solid #999; display: inline-block; flex: none; }
            .label-rising { color: #b35806; font-weight: 600; } .label-falling { color: #542788; font-weight: 600; }
            .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 11px; word-break: break-all; }
            .ok { color: #1a7f37; font-weight: 600; } .bad { color: #b00020; font-weight: 600; }
            .notice { border: 1px solid #d4a72c; background: #fff8c5; padding: 10px 14px; margin: 12px 0; border-radius: 4px; }
            code { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; background: #f3f3f3; padding: 1px 4px; }
            figure { margin: 0; flex: 1 1 480px; max-width: 780px; } figcaption { font-size: 12px; color: #555; }
            svg.map { display: block; width: 100%; height: auto; }
            path.area, path.inset { stroke: #666; stroke-width: 0.5; } path.cell { stroke: none; }
            path.cluster { fill: none; stroke-width: 1.6px; vector-effect: non-scaling-stroke; stroke-linejoin: round; }
            path.cluster.hot { stroke: #67001f; } path.cluster.cold { stroke: #053061; }
            path.emerging { fill: none; stroke: #6a3d9a; stroke-width: 1.5px; stroke-dasharray: 4 2; vector-effect: non-scaling-stroke; }
            text.label { font-size: 15px; font-weight: 600; fill: #111; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; text-anchor: middle; }
            text.scale { font-size: 12px; fill: #222; }
            .runs { margin-bottom: 8px; } h3 { font-size: 14px; margin: 18px 0 4px; }
            @media (max-width: 600px) {
              body { padding: 0 12px; margin: 12px auto; }
              table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
              table.stack thead { display: none; }
              table.stack tr { border-bottom: 1px solid #ccc; padding: 4px 0; }
              table.stack td { border: none; padding: 1px 0; text-align: left; }
              table.stack td[dir="rtl"] { text-align: right; }
              table.stack td[data-label]::before { content: attr(data-label) ": "; color: #666; font-size: 12px; }
              table.stack td[dir="rtl"][data-label]::before { content: ""; }
              text.label { font-size: 26px; stroke-width: 4px; } text.scale { font-size: 22px; }
            }
            @media print { body { max-width: none; margin: 0; padding: 0 8mm; } figure, table, tr, .notice { break-inside: avoid; } h2 { break-after: avoid; } }
            </style>
            </head>
            <body>
            <h1>\(h(p.title))\(localTitle)</h1>
            <p class="sub">As of \(h(asOf)) · \(Self.number(total7)) incidents in the last 7 days across \(areas.count) areas · generated \(h(localTime(generatedAt)))</p>
            \(guidance())
            <div class="grid">
            <figure>\(map)<figcaption>All areas.</figcaption></figure>
            \(legend())
            </div>
            \(inset.isEmpty ? "" : "<figure class=\"inset-figure\">\(inset)<figcaption>\(h(p.insetCaption))</figcaption></figure>")

            """
        out += "<h2>Top areas by incidents, last 7 days</h2>\n" + areaTable(top, none: "No incidents in the last 7 days.")
        out += "<h2>Largest increases against the baseline (areas with a baseline of 2 or more a week)</h2>\n"
            + areaTable(Array(byChange), none: "No area has a baseline of 2 or more incidents a week (the baseline needs the five weeks before the last 7 days).")
        out += "<h2>Emerging hot spots (weekly Gi* trend, ArcGIS patterns)</h2>\n" + emergingTable()
        out += "<h2>The runs: accounting and inputs</h2>\n" + runSection()
        out += """
            <p class="sub">\(p.attribution.map { h($0) + " " } ?? "")Change: last 7 days against the four weeks before, judged by an exact test on the counts (colour only where p < 0.05).
            Hot spots: Getis-Ord Gi* on a grid sized from the incidents' spacing, significance exact under complete spatial randomness, FDR-corrected; adjacent significant cells are outlined together. Trend: Mann-Kendall on the last 12 weekly counts. Times: \(h(timeZone.identifier)).</p>
            </body>
            </html>

            """
        return out
    }

    /// When the date has no aggregates: what holds and what to run, instead of a page of zeros.
    func guidance() -> String {
        // Aggregates over a window without a single incident are zeros too: say why and what to run.
        guard !hasAggregates || loadingRuns.isEmpty else { return "" }
        guard let span = incidentSpan else {
            if let months = monthOnlySpan {
                return "<div class=\"notice\"><strong>No daily aggregates for \(h(asOf))</strong>: every incident so far is dated to the month only "
                    + "(\(h(months.first)) to \(h(months.last))). They are counted in <code>district_monthly</code>; daily counts, trends and hot spots "
                    + "need incidents dated to the day.</div>\n"
            }
            return "<div class=\"notice\"><strong>No aggregates for \(h(asOf)), and the database holds no incidents yet.</strong> "
                + "Load an export first: <code>khareetaty run --date \(h(asOf))</code>.</div>\n"
        }
        let where_ = asOf > span.last ? "after the last day with incidents (\(h(span.last)))"
            : asOf < span.first ? "before the first day with incidents (\(h(span.first)))" : "within the incidents' days (\(h(span.first)) to \(h(span.last)))"
        let what = hasAggregates ? "<strong>No incidents in the 7 days to \(h(asOf))</strong>: its trends and hot spots are empty"
            : "<strong>No aggregates for \(h(asOf))</strong>: no run computed trends or hot spots for this date"
        return "<div class=\"notice\">\(what), which is \(where_). "
            + (hasAggregates ? "On" : "To report on it: <code>khareetaty run --date \(h(asOf))</code>; on") + " the data's last day: "
            + "<code>khareetaty run --date \(h(span.last))</code> (or <code>--date latest</code>); on every day: "
            + "<code>khareetaty backfill --from \(h(span.first)) --to \(h(span.last))</code>.</div>\n"
    }

    func legend() -> String {
        var out = "<div class=\"legend\"><strong>Change, last 7 days vs the four weeks before (exact test)</strong>\n"
        for c in Self.changeClasses { out += "<div><span class=\"sw\" style=\"background:\(c.colour)\"></span>\(h(c.label))</div>\n" }
        out += "<div><span class=\"sw\" style=\"background:\(Self.noBaselineColour)\"></span>no baseline yet (history shorter than 5 weeks)</div>\n"
        if let status = hotspotStatus, status.status != "ok", let hotspotWindow {
            out += "<br><strong>Hot spots, last \(hotspotWindow) days</strong>\n"
            out += "<div class=\"insufficient\">Too few incidents for a hot-spot analysis: \(Self.number(status.incidents)) in the study area, "
                + "at least \(Self.minimumHotspotIncidents) needed. No cell is marked.</div>\n"
        } else if let hotspotWindow {
            out += "<br><strong>Gi* hot and cold spots, last \(hotspotWindow) days</strong>\n"
            for bin in [3, 2, 1, -1, -2, -3] {
                out += "<div><span class=\"sw\" style=\"background:\(Self.binColours[bin]!)\"></span>\(h(Self.binLabels[bin]!))</div>\n"
            }
            out += "<div><span class=\"sw\" style=\"border:2px solid #67001f\"></span>outline of adjacent hot-spot cells (cold: blue)</div>\n"
            out += "<div><span class=\"sw\" style=\"border:2px dashed #6a3d9a\"></span>emerging hot spot (new, consecutive, intensifying, persistent)</div>\n"
            out += "<div>\(Self.number(cells.count)) significant cells of \(Int(hotspotStatus?.cellMetres ?? 0)) m, FDR-corrected</div>\n"
        } else {
            out += "<br>No hot-spot analysis for this date.\n"
        }
        return out + "</div>"
    }

    func areaTable(_ rows: [Area], none: String) -> String {
        guard !rows.isEmpty else { return "<p>\(h(none))</p>\n" }
        // A second name and a region only where the pipeline has them: no empty columns.
        let names = presentation.namesLanguage != nil && areas.contains { $0.arabicName != nil }
        let regions = areas.contains { $0.governorate != nil }
        let lang = presentation.namesLanguage.map { " lang=\"\(h($0))\"" } ?? ""
        let dir = presentation.namesAreRightToLeft ? " dir=\"rtl\"" : ""
        var out = "<table class=\"stack\"><thead><tr><th>Area</th>" + (names ? "<th\(dir)>\(h(presentation.namesHeading))</th>" : "")
            + (regions ? "<th>\(h(presentation.regionHeading))</th>" : "") + "<th class=\"n\">7 days</th><th class=\"n\">baseline</th>"
            + "<th class=\"n\">change</th><th>12 weeks</th><th>trend (Mann-Kendall)</th></tr></thead><tbody>\n"
        for area in rows {
            let change = changeValue(area).map { $0.isInfinite ? "new" : String(format: "%+.0f%%", $0) } ?? "—"
            let label = area.trendLabel ?? "—"
            let slope = area.senSlope.map { String(format: " (%+.1f/week)", $0) } ?? ""
            let region = h(area.governorate ?? "") + (area.governorateArabicName.map { " <span class=\"ar\"\(lang)\(dir)>\(h($0))</span>" } ?? "")
            out += "<tr><td data-label=\"Area\"><strong>\(h(area.displayName))</strong></td>"
                + (names ? "<td class=\"ar\"\(lang)\(dir)>\(h(area.arabicName ?? ""))</td>" : "")
                + (regions ? "<td data-label=\"\(h(presentation.regionHeading))\">\(region)</td>" : "")
                + "<td class=\"n\" data-label=\"7 days\">\(Self.number(area.count7d ?? 0))</td>"
                + "<td class=\"n\" data-label=\"baseline\">\(area.baseline.map { String(format: "%.1f", $0) } ?? "—")</td>"
                + "<td class=\"n\" data-label=\"change\">\(change)</td><td data-label=\"12 weeks\">\(sparkline(area.weekly))</td>"
                + "<td data-label=\"trend\" class=\"label-\(h(label))\">\(h(label.replacingOccurrences(of: "_", with: " ")))\(label == "rising" || label == "falling" ? slope : "")</td></tr>\n"
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
        for (pattern, n) in emergingPatterns { out += "<tr><td>\(h(Self.patternName(pattern)))</td><td class=\"n\">\(Self.number(n))</td></tr>\n" }
        return out + "</tbody></table>\n"
    }

    /// The audit: every run whose load holds incidents of the last 7 days (a nightly run, a
    /// backfill, a replay), then the run that computed the aggregates when it loaded none of them.
    func runSection() -> String {
        guard !loadingRuns.isEmpty || aggregatesRun != nil else { return "<p>No succeeded run loaded or reported on this date.</p>\n" }
        var out = ""
        if !loadingRuns.isEmpty {
            let total = loadingRuns.reduce(0) { $0 + $1.incidentsInWindow }
            out += "<p>The \(Self.number(total)) incidents of the 7 days to \(h(asOf)) were loaded by "
                + (loadingRuns.count == 1 ? "one run" : "\(loadingRuns.count) runs") + ":</p>\n"
            out += "<table class=\"stack runs\"><thead><tr><th>run</th><th>kind</th><th>started (\(h(timeZone.identifier)))</th>"
                + "<th class=\"n\">of these 7 days</th><th class=\"n\">read</th><th class=\"n\">loaded</th><th class=\"n\">rejected</th><th class=\"n\">duplicates</th><th>accounting</th></tr></thead><tbody>\n"
            for run in loadingRuns {
                let holds = run.read == run.loaded + run.rejected + run.duplicates
                out += "<tr><td class=\"mono\" data-label=\"run\">\(h(run.runID))</td><td data-label=\"kind\">\(h(run.kind))</td><td data-label=\"started\">\(h(run.started))</td>"
                    + "<td class=\"n\" data-label=\"of these 7 days\">\(Self.number(run.incidentsInWindow))</td><td class=\"n\" data-label=\"read\">\(Self.number(run.read))</td>"
                    + "<td class=\"n\" data-label=\"loaded\">\(Self.number(run.loaded))</td><td class=\"n\" data-label=\"rejected\">\(Self.number(run.rejected))</td>"
                    + "<td class=\"n\" data-label=\"duplicates\">\(Self.number(run.duplicates))</td>"
                    + "<td data-label=\"accounting\">\(holds ? "<span class=\"ok\">✓ adds up</span>" : "<span class=\"bad\">✗ does not add up</span>")</td></tr>\n"
            }
            out += "</tbody></table>\n"
        }
        if let run = aggregatesRun, !loadingRuns.contains(where: { $0.runID == run.runID }) {
            out += "<p>The aggregates of \(h(asOf)) were computed by run <span class=\"mono\">\(h(run.runID))</span> (\(h(run.kind)), started \(h(run.started)) \(h(timeZone.identifier))), "
                + "which loaded \(Self.number(run.loaded)) new incidents.</p>\n"
        }
        for run in loadingRuns { out += runDetail(run) }
        return out
    }

    func runDetail(_ run: Run) -> String {
        let holds = run.read == run.loaded + run.rejected + run.duplicates
        var out = "<h3>Run <span class=\"mono\">\(h(run.runID))</span></h3>\n"
        out += "<p>\(h(run.kind)), \(h(run.status)), pipeline \(h(run.pipeline)), started \(h(run.started)) \(h(timeZone.identifier))"
            + (run.seconds.map { String(format: ", %.1f s", $0) } ?? "") + (run.asOfDate.map { ", reported on \(h($0))" } ?? "") + ".</p>\n"
        out += "<p>read \(Self.number(run.read)) = loaded \(Self.number(run.loaded)) + rejected \(Self.number(run.rejected)) + duplicates \(Self.number(run.duplicates)) "
            + (holds ? "<span class=\"ok\">✓ adds up</span>" : "<span class=\"bad\">✗ does not add up</span>") + " · unassigned \(Self.number(run.unassigned))"
            + (run.monthOnly > 0 ? " · known only to the month \(Self.number(run.monthOnly)) (in the monthly counts; not in the daily counts, trends or hot spots)" : "")
            + "</p>\n"
        out += "<div class=\"grid\"><table><thead><tr><th>rejected, by reason</th><th class=\"n\">rows</th></tr></thead><tbody>\n"
        for (reason, n) in run.rejectsByReason { out += "<tr><td>\(h(reason))</td><td class=\"n\">\(Self.number(n))</td></tr>\n" }
        out += "</tbody></table><table><thead><tr><th>geocoded, by method</th><th class=\"n\">rows</th></tr></thead><tbody>\n"
        for (method, n) in run.geocodeMethods { out += "<tr><td>\(h(method))</td><td class=\"n\">\(Self.number(n))</td></tr>\n" }
        if !run.flags.isEmpty {
            out += "</tbody></table><table><thead><tr><th>kept, flagged</th><th class=\"n\">rows</th></tr></thead><tbody>\n"
            for (flag, n) in run.flags { out += "<tr><td>\(h(flag))</td><td class=\"n\">\(Self.number(n))</td></tr>\n" }
        }
        out += "</tbody></table></div>\n<table class=\"stack\"><thead><tr><th>input</th><th class=\"n\">size</th><th class=\"n\">rows read</th><th>SHA-256</th></tr></thead><tbody>\n"
        for input in run.inputs {
            out += "<tr><td data-label=\"input\">\(h(input.path))\(input.skipped.map { " <em>(skipped: \(h($0)))</em>" } ?? "")</td>"
                + "<td class=\"n\" data-label=\"size\">\(Self.bytes(input.bytes))</td>"
                + "<td class=\"n\" data-label=\"rows read\">\(Self.number(input.read))</td><td class=\"mono\" data-label=\"SHA-256\">\(h(input.sha256))</td></tr>\n"
        }
        out += "</tbody></table>\n"
        if let sha = run.pipelineSHA256 { out += "<p>Pipeline rules SHA-256: <span class=\"mono\">\(h(sha))</span></p>\n" }
        return out
    }

    /// The defaults the report names when an analysis had too little data (the grid row holds the counts).
    static let minimumHotspotIncidents = AggregateSettings.Hotspot().minIncidents
    static let minimumEmergingSteps = AggregateSettings.Hotspot().emergingMinSteps

    static func patternName(_ raw: String) -> String {
        let words = raw.replacingOccurrences(of: "_", with: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    /// The centre of a shape's box (which map an area is named on).
    static func centre(_ shape: MultiPolygon) -> GeoPoint {
        let b = shape.boundingBox
        return GeoPoint(lon: (b.minLon + b.maxLon) / 2, lat: (b.minLat + b.maxLat) / 2)
    }

    /// A count with thousands separators: 1,234,567.
    static func number(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// A size as people read it: 812 B, 45.2 kB, 1.3 MB (decimal units), exact bytes beside.
    static func bytes(_ n: Int) -> String {
        guard n >= 1000 else { return "\(n) B" }
        let units = ["kB", "MB", "GB", "TB"]
        var value = Double(n) / 1000, unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return String(format: "%.1f %@", value, units[unit]) + " <span class=\"sub\">(\(number(n)) B)</span>"
    }

    /// A moment in the pipeline's zone: 2026-11-25 06:00:12 Asia/Kuwait (UTC+03:00).
    func localTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let offset = timeZone.secondsFromGMT(for: date)
        return formatter.string(from: date) + " \(timeZone.identifier) (UTC" + String(format: "%@%02d:%02d", offset < 0 ? "-" : "+", abs(offset) / 3600, abs(offset) % 3600 / 60) + ")"
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
