import Geo

/// The areas an analysis runs over: each one's shape, and the index that places a point in one.
/// (The core's district layer is one; the analyses need nothing else of it.)
public protocol AreaLayer: Sendable {
    var index: PolygonIndex { get }
    func shape(_ area: Int) -> MultiPolygon
}
