import Foundation
import Geo
import Spatial

/// The report's maps as inline SVG. Shapes are projected with a transverse Mercator centred on the
/// areas (metres, so shapes, distances and the scale bar are true), north up, into a `viewBox`:
/// the SVG scales with the page (a phone shows the whole map, not its western desert). Lines that
/// must stay visible at any size (cluster outlines, emerging outlines) do not scale with it.
struct MapFrame {
    let tm: TransverseMercator
    let minX: Double, maxY: Double
    /// Pixels (viewBox units) per metre.
    let scale: Double
    let pad: Double
    let width: Double, height: Double

    /// The whole layer, or the `focus` box of it (what lies outside is clipped by the viewport).
    init(areas: [MorningReport.Area], focus: BoundingBox?, width: Double) {
        var box = BoundingBox(enclosing: [])
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
        self.tm = tm
        self.minX = minX
        self.maxY = maxY
        pad = 8
        scale = (width - 2 * pad) / max(maxX - minX, 1)
        self.width = width
        height = ((maxY - minY) * scale + 2 * pad).rounded()
    }

    func xy(_ p: GeoPoint) -> (x: Double, y: Double) {
        let (x, y) = tm.forward(p)
        return (pad + (x - minX) * scale, pad + (maxY - y) * scale)
    }

    func point(_ p: GeoPoint) -> String {
        let (x, y) = xy(p)
        return String(format: "%.1f,%.1f", x, y)
    }

    func ring(_ points: [GeoPoint]) -> String { "M" + points.map(point).joined(separator: "L") + "Z" }

    func contains(x: Double, y: Double) -> Bool { x >= 0 && x <= width && y >= 0 && y <= height }
}

extension MorningReport {
    enum MapKind { case whole, inset(BoundingBox) }

    /// The inset's box: the largest group of areas under `report.inset_max_area_km2` that lie within
    /// 2 km of each other (the urban coast, not the few small areas far out in the desert), unless
    /// it spans most of the map anyway (then an inset would repeat the map) or holds under 3 areas.
    func insetFocus() -> BoundingBox? {
        guard let limit = presentation.insetMaxAreaKm2 else { return nil }
        let small = areas.indices.filter { GeodesicArea.km2(areas[$0].geometry) < limit }
        guard small.count >= 3 else { return nil }
        // Union-find over boxes grown by ~2 km.
        var parent = Array(small.indices)
        func root(_ i: Int) -> Int { var i = i; while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }; return i }
        let grown = small.map { index -> BoundingBox in
            let b = areas[index].geometry.boundingBox, dLat = 0.018, dLon = 0.018 / max(cos(b.minLat * .pi / 180), 0.2)
            return BoundingBox(minLon: b.minLon - dLon, minLat: b.minLat - dLat, maxLon: b.maxLon + dLon, maxLat: b.maxLat + dLat)
        }
        for i in small.indices {
            for j in small.indices where j > i {
                let a = grown[i], b = grown[j]
                if a.minLon <= b.maxLon && b.minLon <= a.maxLon && a.minLat <= b.maxLat && b.minLat <= a.maxLat {
                    parent[root(i)] = root(j)
                }
            }
        }
        var groups: [Int: [Int]] = [:]
        for i in small.indices { groups[root(i), default: []].append(small[i]) }
        guard let largest = groups.values.max(by: { $0.count < $1.count }), largest.count >= 3 else { return nil }
        var focus = BoundingBox(enclosing: [])
        for index in largest { focus.extend(areas[index].geometry.boundingBox) }
        var all = BoundingBox(enclosing: [])
        for area in areas { all.extend(area.geometry.boundingBox) }
        func span(_ b: BoundingBox) -> Double { (b.maxLon - b.minLon) * (b.maxLat - b.minLat) }
        guard span(focus) < 0.5 * span(all) else { return nil }
        // A margin, so the group's outer areas are not cut by the frame.
        let mLon = (focus.maxLon - focus.minLon) * 0.03, mLat = (focus.maxLat - focus.minLat) * 0.03
        return BoundingBox(minLon: focus.minLon - mLon, minLat: focus.minLat - mLat, maxLon: focus.maxLon + mLon, maxLat: focus.maxLat + mLat)
    }

    /// One map: the areas (one path each, class `classes`), the significant cells and their merged
    /// outlines, the emerging outlines, the names of `labelled` areas, and a scale bar.
    func mapSVG(width: Double, classes: String, kind: MapKind, labelled: [Area]) -> String {
        let focus: BoundingBox? = if case let .inset(box) = kind { box } else { nil }
        let frame = MapFrame(areas: areas, focus: focus, width: width)
        let w = Int(frame.width), hgt = Int(frame.height)
        var svg = "<svg class=\"map\" role=\"img\" aria-label=\"Map of \(h(presentation.mapLabel))\(focus == nil ? "" : ", enlarged") coloured by the change of the last 7 days\" "
            + "width=\"\(w)\" height=\"\(hgt)\" viewBox=\"0 0 \(w) \(hgt)\" preserveAspectRatio=\"xMidYMid meet\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#eef3f7\"/>\n<g id=\"areas\">\n"
        for area in areas {
            let d = area.geometry.rings.map { frame.ring($0.points) }.joined()
            var title = area.displayName + (area.arabicName.map { " · " + $0 } ?? "")
            if let count = area.count7d { title += ": \(count) in 7 days" }
            if let value = changeValue(area) { title += value.isInfinite ? " (new)" : String(format: " (%+.0f%%)", value) }
            let inFocus = focus.map { f in
                let b = area.geometry.boundingBox
                return b.minLon >= f.minLon && b.maxLon <= f.maxLon && b.minLat >= f.minLat && b.maxLat <= f.maxLat
            } ?? false
            svg += "<path class=\"\(classes)\" data-code=\"\(h(area.code))\"\(inFocus ? " data-focus=\"1\"" : "") fill=\"\(colour(area))\" fill-rule=\"evenodd\" d=\"\(d)\"><title>\(h(title))</title></path>\n"
        }
        svg += "</g>\n<g id=\"hotspots\">\n"
        if let grid = hotspotGrid {
            for cell in cells {
                let corners = [(0, 0), (1, 0), (1, 1), (0, 1)].map { grid.corner(cell.col + $0.0, cell.row + $0.1) }
                svg += "<path class=\"cell\" fill=\"\(Self.binColours[cell.bin] ?? "#fff")\" d=\"\(frame.ring(corners))\"><title>\(h(Self.binLabels[cell.bin] ?? "")), \(cell.count) incidents, z = \(String(format: "%.2f", cell.z))</title></path>\n"
            }
            // Adjacent significant cells as one outline per side: visible where a cell is 2 px wide.
            for (side, name) in [(1, "hot"), (-1, "cold")] {
                let group = cells.filter { $0.bin * side > 0 }.map { ($0.col, $0.row) }
                if !group.isEmpty { svg += "<path class=\"cluster \(name)\" d=\"\(Self.outline(group, grid: grid, frame: frame))\"/>\n" }
            }
        }
        svg += "</g>\n<g id=\"emerging\">\n"
        if let grid = emergingGrid, !emergingCells.isEmpty {
            svg += "<path class=\"emerging\" d=\"\(Self.outline(emergingCells.map { ($0.col, $0.row) }, grid: grid, frame: frame))\">"
                + "<title>emerging hot spots: \(h(Set(emergingCells.map { Self.patternName($0.pattern) }).sorted().joined(separator: ", ")))</title></path>\n"
        }
        svg += "</g>\n<g id=\"labels\">\n" + labels(labelled, frame: frame) + "</g>\n"
        return svg + scaleBar(frame) + "</svg>"
    }

    /// The boundary of a set of grid cells: every cell edge whose neighbour across it is not in
    /// the set, as path segments.
    static func outline(_ cells: [(Int, Int)], grid: CellGrid, frame: MapFrame) -> String {
        struct Key: Hashable { let c: Int, r: Int }
        let set = Set(cells.map { Key(c: $0.0, r: $0.1) })
        var d = ""
        func edge(_ a: (Int, Int), _ b: (Int, Int)) {
            d += "M" + frame.point(grid.corner(a.0, a.1)) + "L" + frame.point(grid.corner(b.0, b.1))
        }
        for key in set.sorted(by: { ($0.c, $0.r) < ($1.c, $1.r) }) {
            let (c, r) = (key.c, key.r)
            if !set.contains(Key(c: c, r: r - 1)) { edge((c, r), (c + 1, r)) }
            if !set.contains(Key(c: c + 1, r: r)) { edge((c + 1, r), (c + 1, r + 1)) }
            if !set.contains(Key(c: c, r: r + 1)) { edge((c + 1, r + 1), (c, r + 1)) }
            if !set.contains(Key(c: c - 1, r: r)) { edge((c, r + 1), (c, r)) }
        }
        return d
    }

    /// Names at each area's most interior point (of its largest part), moved above, below or to
    /// the side when they would cover a name already placed, and kept inside the frame.
    func labels(_ labelled: [Area], frame: MapFrame) -> String {
        let size = 15.0
        var placed: [(x0: Double, y0: Double, x1: Double, y1: Double)] = []
        var out = ""
        for area in labelled {
            guard let anchor = Self.interiorPoint(area.geometry, frame: frame), frame.contains(x: anchor.x, y: anchor.y) else { continue }
            let text = area.displayName
            let width = Double(text.count) * size * 0.58, height = size
            // Kept inside the frame at the phone's larger label size too (26 units, ReportHTML's CSS).
            let reach = Double(text.count) * 26 * 0.58 / 2 + 2
            func box(_ x: Double, _ y: Double) -> (Double, Double, Double, Double) {
                let cx = min(max(x, reach), frame.width - reach), cy = min(max(y, 26 + 2), frame.height - 4)
                return (cx - width / 2, cy - height, cx + width / 2, cy)
            }
            let candidates = [(0.0, size * 0.35), (0, -size * 0.6), (0, size * 1.3), (width * 0.6, size * 0.35), (-width * 0.6, size * 0.35)]
                .map { box(anchor.x + $0.0, anchor.y + $0.1) }
            let free = candidates.first { c in !placed.contains { c.0 < $0.x1 && $0.x0 < c.2 && c.1 < $0.y1 && $0.y0 < c.3 } } ?? candidates[0]
            placed.append((free.0, free.1, free.2, free.3))
            out += String(format: "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" data-code=\"%@\">", (free.0 + free.2) / 2, free.3 - 3, h(area.code))
                + h(text) + "</text>\n"
        }
        return out
    }

    /// The sample point of the area's largest part farthest from its edges (a cheap pole of
    /// inaccessibility: a 16 × 16 grid over the part's box), in frame pixels.
    static func interiorPoint(_ shape: MultiPolygon, frame: MapFrame) -> (x: Double, y: Double)? {
        let parts = shape.polygons.map { polygon -> (Polygon, [(x: Double, y: Double)]) in (polygon, polygon.outer.points.map(frame.xy)) }
        func area(_ points: [(x: Double, y: Double)]) -> Double {
            var sum = 0.0
            for i in 0..<max(points.count - 1, 0) { sum += points[i].x * points[i + 1].y - points[i + 1].x * points[i].y }
            return abs(sum) / 2
        }
        guard let (polygon, ring) = parts.max(by: { area($0.1) < area($1.1) }) else { return nil }
        let single = MultiPolygon([polygon]), box = single.boundingBox
        var best: (x: Double, y: Double)?, bestDistance = -1.0
        for i in 0..<16 {
            for j in 0..<16 {
                let p = GeoPoint(lon: box.minLon + (Double(i) + 0.5) / 16 * (box.maxLon - box.minLon),
                                 lat: box.minLat + (Double(j) + 0.5) / 16 * (box.maxLat - box.minLat))
                guard single.contains(p) else { continue }
                let q = frame.xy(p)
                var nearest = Double.infinity
                for k in 0..<max(ring.count - 1, 0) {
                    let a = ring[k], b = ring[k + 1]
                    let dx = b.x - a.x, dy = b.y - a.y, len = dx * dx + dy * dy
                    let t = len > 0 ? min(max(((q.x - a.x) * dx + (q.y - a.y) * dy) / len, 0), 1) : 0
                    let ex = a.x + t * dx - q.x, ey = a.y + t * dy - q.y
                    nearest = min(nearest, ex * ex + ey * ey)
                }
                if nearest > bestDistance { bestDistance = nearest; best = q }
            }
        }
        if best == nil, let first = ring.first { best = first }
        return best
    }

    /// A bar of a round length (1, 2 or 5 × 10ⁿ m) about a fifth of the map wide, bottom left.
    func scaleBar(_ frame: MapFrame) -> String {
        let target = frame.width / 5 / frame.scale
        let magnitude = pow(10, floor(log10(target)))
        let metres = [5.0, 2, 1].map { $0 * magnitude }.first { $0 <= target } ?? magnitude
        let length = metres * frame.scale
        let x = frame.pad + 8, y = frame.height - frame.pad - 8
        let label = metres >= 1000 ? "\(Int(metres / 1000)) km" : "\(Int(metres)) m"
        return String(format: """
            <g class="scalebar" aria-label="scale bar: %@"><rect x="%.1f" y="%.1f" width="%.1f" height="40" fill="#fff" fill-opacity="0.8"/>\
            <path d="M%.1f,%.1fv6h%.1fv-6" fill="none" stroke="#222" stroke-width="1.5"/>\
            <text x="%.1f" y="%.1f" class="scale">%@</text></g>\n
            """, label, x - 4, y - 34, max(length + 8, 90), x, y - 6, length, x, y - 10, label)
    }
}
