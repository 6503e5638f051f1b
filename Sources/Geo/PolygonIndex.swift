import Foundation

/// A spatial index over a layer of non-overlapping (multi)polygons that answers "which shape
/// contains this point" with exactly the answers of `MultiPolygon.contains` tried in layer order,
/// but without scanning the layer:
///
/// - a uniform grid over the layer: a cell that no edge touches lies wholly inside one shape (or
///   none), decided once at build time, so most points are answered by one array read;
/// - a cell that edges touch lists the shapes whose bounding boxes overlap it, in layer order, and
///   each is tested with its own y-stripe edge index (the ray cast, but only over the few edges
///   whose y-range holds the point: the idea of tg's "ystripes");
/// - the same cells list their edges, for the nearest shape within a distance in metres.
///
/// Border rule (inherited from the ray cast's half-open edges): a point exactly on an edge shared
/// by two shapes belongs to the one on its right, or above it when the edge is horizontal.
public struct PolygonIndex: Sendable {
    struct Edge: Sendable {
        // Stored in the orientation `MultiPolygon.contains` walks them, so the crossing
        // arithmetic is bit-for-bit the same.
        var ax, ay, bx, by: Double
    }

    /// One shape's y-stripes: edges bucketed by the horizontal bands they span.
    struct Stripes: Sendable {
        var box: BoundingBox
        var minY: Double
        var stripeHeight: Double
        var starts: [Int32]   // count + 1 offsets into `edges`
        var edges: [Edge]

        init(_ shape: MultiPolygon) {
            box = shape.boundingBox
            var all: [Edge] = []
            for ring in shape.rings {
                let pts = ring.points
                var j = pts.count - 1
                for i in 0..<pts.count {
                    all.append(Edge(ax: pts[i].lon, ay: pts[i].lat, bx: pts[j].lon, by: pts[j].lat))
                    j = i
                }
            }
            let count = max(1, min(4096, all.count / 4))
            minY = box.minLat
            stripeHeight = max((box.maxLat - box.minLat) / Double(count), .leastNormalMagnitude)
            var buckets = [[Edge]](repeating: [], count: count)
            for edge in all {
                let lo = slot((min(edge.ay, edge.by) - minY) / stripeHeight, count)
                let hi = slot((max(edge.ay, edge.by) - minY) / stripeHeight, count)
                for s in lo...hi { buckets[s].append(edge) }
            }
            starts = [0]
            edges = []
            for bucket in buckets {
                edges += bucket
                starts.append(Int32(edges.count))
            }
        }


        @inline(__always)
        func contains(_ x: Double, _ y: Double) -> Bool {
            guard x >= box.minLon, x <= box.maxLon, y >= box.minLat, y <= box.maxLat else { return false }
            let s = slot((y - minY) / stripeHeight, starts.count - 1)
            var inside = false
            for k in Int(starts[s])..<Int(starts[s + 1]) {
                let e = edges[k]
                if (e.ay > y) != (e.by > y) {
                    let cx = (e.bx - e.ax) * (y - e.ay) / (e.by - e.ay) + e.ax
                    if x < cx { inside.toggle() }
                }
            }
            return inside
        }
    }

    struct CellEdge: Sendable {
        var shape: Int32
        var edge: Edge
    }

    public let box: BoundingBox
    let columns: Int, rows: Int
    let cellWidth: Double, cellHeight: Double
    /// Per cell: ≥ 0 the shape wholly containing it, -1 none, -2 look at `candidates`.
    let cellShape: [Int16]   // small: the whole grid stays in cache
    let candidateStarts: [Int32]
    let candidates: [Int32]
    let edgeStarts: [Int32]
    let cellEdges: [CellEdge]
    let stripes: [Stripes]

    static let boundary: Int16 = -2

    public init(_ shapes: [MultiPolygon], cellsPerSide: Int = 512) {
        var box = BoundingBox(enclosing: [])
        for shape in shapes { box.extend(shape.boundingBox) }
        if shapes.isEmpty { box = BoundingBox(minLon: 0, minLat: 0, maxLon: 1, maxLat: 1) }
        self.box = box
        columns = cellsPerSide
        rows = cellsPerSide
        cellWidth = max((box.maxLon - box.minLon) / Double(cellsPerSide), .leastNormalMagnitude)
        cellHeight = max((box.maxLat - box.minLat) / Double(cellsPerSide), .leastNormalMagnitude)
        let stripes = shapes.map(Stripes.init)
        self.stripes = stripes

        // Built as flat CSR arrays (count, then fill): 10⁶ small arrays would dominate build time.
        let cellCount = columns * rows
        let (columns, rows, cellWidth, cellHeight) = (self.columns, self.rows, self.cellWidth, self.cellHeight)
        func cellRange(_ minX: Double, _ minY: Double, _ maxX: Double, _ maxY: Double) -> (Int, Int, Int, Int) {
            let (c0, r0) = Self.cell(minX, minY, box, cellWidth, cellHeight, columns, rows)
            let (c1, r1) = Self.cell(maxX, maxY, box, cellWidth, cellHeight, columns, rows)
            return (c0, r0, c1, r1)
        }
        // Each shape's edges, in `contains` orientation.
        let shapeEdges: [[Edge]] = shapes.map { shape in
            shape.rings.flatMap { ring -> [Edge] in
                let pts = ring.points
                var out: [Edge] = []
                out.reserveCapacity(pts.count)
                var j = pts.count - 1
                for i in 0..<pts.count { out.append(Edge(ax: pts[i].lon, ay: pts[i].lat, bx: pts[j].lon, by: pts[j].lat)); j = i }
                return out
            }
        }
        // Edges into the cells their bounding boxes overlap (conservative: a touched cell is a boundary cell).
        var edgeStarts = [Int32](repeating: 0, count: cellCount + 1)
        for edges in shapeEdges {
            for e in edges {
                let (c0, r0, c1, r1) = cellRange(min(e.ax, e.bx), min(e.ay, e.by), max(e.ax, e.bx), max(e.ay, e.by))
                for r in r0...r1 { for c in c0...c1 { edgeStarts[r * columns + c + 1] += 1 } }
            }
        }
        for i in 0..<cellCount { edgeStarts[i + 1] += edgeStarts[i] }
        var fill = Array(edgeStarts.dropLast())
        var cellEdges = [CellEdge](repeating: CellEdge(shape: 0, edge: Edge(ax: 0, ay: 0, bx: 0, by: 0)), count: Int(edgeStarts[cellCount]))
        for (s, edges) in shapeEdges.enumerated() {
            for e in edges {
                let (c0, r0, c1, r1) = cellRange(min(e.ax, e.bx), min(e.ay, e.by), max(e.ax, e.bx), max(e.ay, e.by))
                for r in r0...r1 {
                    for c in c0...c1 {
                        let cell = r * columns + c
                        cellEdges[Int(fill[cell])] = CellEdge(shape: Int32(s), edge: e)
                        fill[cell] += 1
                    }
                }
            }
        }

        // Shapes whose bounding box overlaps each cell, in layer order.
        var candidateStarts = [Int32](repeating: 0, count: cellCount + 1)
        for stripe in stripes {
            let (c0, r0, c1, r1) = cellRange(stripe.box.minLon, stripe.box.minLat, stripe.box.maxLon, stripe.box.maxLat)
            for r in r0...r1 { for c in c0...c1 { candidateStarts[r * columns + c + 1] += 1 } }
        }
        for i in 0..<cellCount { candidateStarts[i + 1] += candidateStarts[i] }
        fill = Array(candidateStarts.dropLast())
        var candidates = [Int32](repeating: 0, count: Int(candidateStarts[cellCount]))
        for (s, stripe) in stripes.enumerated() {
            let (c0, r0, c1, r1) = cellRange(stripe.box.minLon, stripe.box.minLat, stripe.box.maxLon, stripe.box.maxLat)
            for r in r0...r1 {
                for c in c0...c1 {
                    let cell = r * columns + c
                    candidates[Int(fill[cell])] = Int32(s)
                    fill[cell] += 1
                }
            }
        }

        // A cell no edge touches lies wholly in one shape or none: its centre decides. A cell that
        // edges touch keeps as candidates only the shapes with edges in it, plus the one shape
        // (if any) that has none there but contains its centre — it then contains the whole
        // cell. That is every shape that can contain a point of the cell, in layer order.
        precondition(shapes.count < Int(Int16.max), "PolygonIndex holds at most 32766 shapes")
        var cellShape = [Int16](repeating: -1, count: cellCount)
        var refinedStarts = [Int32](repeating: 0, count: cellCount + 1)
        var refined: [Int32] = []
        for r in 0..<rows {
            for c in 0..<columns {
                let cell = r * columns + c
                let cx = box.minLon + (Double(c) + 0.5) * cellWidth, cy = box.minLat + (Double(r) + 0.5) * cellHeight
                let edgeRange = Int(edgeStarts[cell])..<Int(edgeStarts[cell + 1])
                if edgeRange.isEmpty {
                    for k in Int(candidateStarts[cell])..<Int(candidateStarts[cell + 1]) where stripes[Int(candidates[k])].contains(cx, cy) {
                        cellShape[cell] = Int16(candidates[k])
                        break
                    }
                } else {
                    cellShape[cell] = Self.boundary
                    var withEdges = Set<Int32>()
                    for k in edgeRange { withEdges.insert(cellEdges[k].shape) }
                    for k in Int(candidateStarts[cell])..<Int(candidateStarts[cell + 1]) {
                        let shape = candidates[k]
                        if withEdges.contains(shape) || stripes[Int(shape)].contains(cx, cy) { refined.append(shape) }
                    }
                }
                refinedStarts[cell + 1] = Int32(refined.count)
            }
        }
        candidateStarts = refinedStarts
        candidates = refined
        self.cellShape = cellShape
        self.candidateStarts = candidateStarts
        self.candidates = candidates
        self.edgeStarts = edgeStarts
        self.cellEdges = cellEdges
    }

    @inline(__always)
    static func cell(_ x: Double, _ y: Double, _ box: BoundingBox, _ w: Double, _ h: Double, _ columns: Int, _ rows: Int) -> (Int, Int) {
        (slot((x - box.minLon) / w, columns), slot((y - box.minLat) / h, rows))
    }

    /// Index (in layer order) of the shape containing the point, or nil.
    @inline(__always)
    public func locate(_ p: GeoPoint) -> Int? {
        let x = p.lon, y = p.lat
        guard x >= box.minLon, x <= box.maxLon, y >= box.minLat, y <= box.maxLat else { return nil }
        let (c, r) = Self.cell(x, y, box, cellWidth, cellHeight, columns, rows)
        let index = r * columns + c
        let kind = cellShape[index]
        if kind >= 0 { return Int(kind) }
        if kind == -1 { return nil }
        for k in Int(candidateStarts[index])..<Int(candidateStarts[index + 1]) {
            let s = Int(candidates[k])
            if stripes[s].contains(x, y) { return s }
        }
        return nil
    }

    /// The shape whose boundary is nearest to the point, if within `metres` (for points inside no
    /// shape). Distances are measured in metres in a local equirectangular projection at the
    /// point (error far below a metre at these distances). Ties go to the earlier shape.
    public func nearest(_ p: GeoPoint, withinMetres metres: Double) -> (index: Int, metres: Double)? {
        let metresPerDegLat = 111_320.0
        let metresPerDegLon = 111_320.0 * cos(p.lat * .pi / 180)
        let dLat = metres / metresPerDegLat, dLon = metres / max(metresPerDegLon, 1)
        guard p.lon + dLon >= box.minLon, p.lon - dLon <= box.maxLon, p.lat + dLat >= box.minLat, p.lat - dLat <= box.maxLat else { return nil }
        let (c0, r0) = Self.cell(p.lon - dLon, p.lat - dLat, box, cellWidth, cellHeight, columns, rows)
        let (c1, r1) = Self.cell(p.lon + dLon, p.lat + dLat, box, cellWidth, cellHeight, columns, rows)
        var best: (index: Int, metres: Double)?
        for r in r0...r1 {
            for c in c0...c1 {
                let index = r * columns + c
                for k in Int(edgeStarts[index])..<Int(edgeStarts[index + 1]) {
                    let e = cellEdges[k]
                    let ax = (e.edge.ax - p.lon) * metresPerDegLon, ay = (e.edge.ay - p.lat) * metresPerDegLat
                    let bx = (e.edge.bx - p.lon) * metresPerDegLon, by = (e.edge.by - p.lat) * metresPerDegLat
                    let d = Self.distanceToOrigin(ax, ay, bx, by)
                    let s = Int(e.shape)
                    if d <= metres, best == nil || d < best!.metres || (d == best!.metres && s < best!.index) { best = (s, d) }
                }
            }
        }
        return best
    }

    /// Distance from (0,0) to the segment a–b.
    @inline(__always)
    static func distanceToOrigin(_ ax: Double, _ ay: Double, _ bx: Double, _ by: Double) -> Double {
        let dx = bx - ax, dy = by - ay
        let lengthSquared = dx * dx + dy * dy
        var t = lengthSquared > 0 ? -(ax * dx + ay * dy) / lengthSquared : 0
        t = min(max(t, 0), 1)
        let x = ax + t * dx, y = ay + t * dy
        return (x * x + y * y).squareRoot()
    }

    /// Share of grid cells that need an edge test (for the benchmark page).
    public var gridSize: (columns: Int, rows: Int) { (columns, rows) }

    public var boundaryCellShare: Double {
        Double(cellShape.filter { $0 == Self.boundary }.count) / Double(cellShape.count)
    }
}

extension PolygonIndex {
    /// A place where two edges properly cross (not merely touch or run along each other):
    /// `first == second` is a self-intersection of that shape, otherwise the two shapes overlap.
    public struct Crossing: Sendable, Hashable {
        public var first: Int
        public var second: Int
        public var point: GeoPoint
    }

    /// Every proper edge crossing in the layer, found cell by cell (edges that cross share a cell).
    public func crossings() -> [Crossing] {
        var found: Set<Crossing> = []
        for cell in 0..<(columns * rows) where cellShape[cell] == Self.boundary {
            let range = Int(edgeStarts[cell])..<Int(edgeStarts[cell + 1])
            for i in range {
                for j in (i + 1)..<range.upperBound {
                    let a = cellEdges[i], b = cellEdges[j]
                    guard let p = Self.properCrossing(a.edge, b.edge) else { continue }
                    found.insert(Crossing(first: Int(min(a.shape, b.shape)), second: Int(max(a.shape, b.shape)), point: p))
                }
            }
        }
        return found.sorted { ($0.first, $0.second, $0.point.lon, $0.point.lat) < ($1.first, $1.second, $1.point.lon, $1.point.lat) }
    }

    /// The crossing point when the open segments cross (each strictly separates the other's ends).
    static func properCrossing(_ e: Edge, _ f: Edge) -> GeoPoint? {
        func orient(_ ax: Double, _ ay: Double, _ bx: Double, _ by: Double, _ cx: Double, _ cy: Double) -> Double {
            (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
        }
        let d1 = orient(e.ax, e.ay, e.bx, e.by, f.ax, f.ay), d2 = orient(e.ax, e.ay, e.bx, e.by, f.bx, f.by)
        let d3 = orient(f.ax, f.ay, f.bx, f.by, e.ax, e.ay), d4 = orient(f.ax, f.ay, f.bx, f.by, e.bx, e.by)
        guard ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) else { return nil }
        let t = d3 / (d3 - d4)
        return GeoPoint(lon: e.ax + t * (e.bx - e.ax), lat: e.ay + t * (e.by - e.ay))
    }
}

/// `value` as a slot of `0..<count`, clamped; total for every Double (infinite, NaN, ±1e308), so no
/// coordinate can trap the conversion to Int.
@inline(__always)
func slot(_ value: Double, _ count: Int) -> Int {
    value >= 0 ? (value < Double(count - 1) ? Int(value) : count - 1) : 0
}
