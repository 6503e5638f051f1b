import Foundation

/// A Transverse Mercator projection on the WGS 84 ellipsoid (Snyder, "Map Projections — A Working
/// Manual", USGS 1987, eqs. 8-9 to 8-18; checked against PROJ in the tests), with a scale k0 on the
/// central meridian and a false origin (UTM: k0 = 0.9996, 500 km false easting). Centred on the study area it measures distances in metres with an error that grows
/// with the square of the distance from that meridian: for Kuwait (±1.1° around 47.5° E) under
/// 0.02%, far inside the 0.1% the hot-spot grid needs.
public struct TransverseMercator: Sendable, Equatable {
    public let lon0: Double
    public let lat0: Double
    /// Scale on the central meridian (UTM: 0.9996) and the false origin in metres.
    public let k0: Double
    public let falseEasting: Double
    public let falseNorthing: Double

    static let a = 6_378_137.0
    static let f = 1 / 298.257223563
    static let e2 = f * (2 - f)
    static let ep2 = e2 / (1 - e2)

    public init(lon0: Double, lat0: Double, k0: Double = 1, falseEasting: Double = 0, falseNorthing: Double = 0) {
        self.lon0 = lon0
        self.lat0 = lat0
        self.k0 = k0
        self.falseEasting = falseEasting
        self.falseNorthing = falseNorthing
    }

    /// UTM zone `zone` (1…60) of the northern or southern hemisphere: EPSG 326zz / 327zz.
    public static func utm(zone: Int, north: Bool) -> TransverseMercator {
        TransverseMercator(lon0: Double(zone) * 6 - 183, lat0: 0, k0: 0.9996, falseEasting: 500_000, falseNorthing: north ? 0 : 10_000_000)
    }

    /// The UTM projection of an EPSG code 32601…32660 (north) or 32701…32760 (south), else nil.
    public static func utm(epsg: Int) -> TransverseMercator? {
        switch epsg {
        case 32601...32660: utm(zone: epsg - 32600, north: true)
        case 32701...32760: utm(zone: epsg - 32700, north: false)
        default: nil
        }
    }

    /// The UTM zone holding a point (the standard 6° zones; Norway's exceptions do not matter here).
    public static func utmZone(of p: GeoPoint) -> (zone: Int, north: Bool) {
        (min(60, max(1, Int(((p.lon + 180) / 6).rounded(.down)) + 1)), p.lat >= 0)
    }

    /// PROJ string of the same projection (for the ledger and for readers who reproject).
    /// The projection a `proj` string describes (its `+lon_0` and `+lat_0`), e.g. as stored with a grid.
    public init?(proj: String) {
        func value(_ key: String) -> Double? {
            proj.split(separator: " ").first { $0.hasPrefix("+\(key)=") }.flatMap { Double($0.dropFirst(key.count + 2)) }
        }
        guard let lon0 = value("lon_0"), let lat0 = value("lat_0") else { return nil }
        self.init(lon0: lon0, lat0: lat0, k0: value("k") ?? 1, falseEasting: value("x_0") ?? 0, falseNorthing: value("y_0") ?? 0)
    }

    public var proj: String {
        func n(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }
        return "+proj=tmerc +lat_0=\(lat0) +lon_0=\(lon0) +k=\(n(k0)) +x_0=\(n(falseEasting)) +y_0=\(n(falseNorthing)) +ellps=WGS84 +units=m"
    }

    static func meridianArc(_ phi: Double) -> Double {
        let e4 = e2 * e2, e6 = e4 * e2
        return a * ((1 - e2 / 4 - 3 * e4 / 64 - 5 * e6 / 256) * phi
            - (3 * e2 / 8 + 3 * e4 / 32 + 45 * e6 / 1024) * sin(2 * phi)
            + (15 * e4 / 256 + 45 * e6 / 1024) * sin(4 * phi)
            - (35 * e6 / 3072) * sin(6 * phi))
    }

    /// (lon, lat) in degrees → (x, y) in metres.
    public func forward(_ p: GeoPoint) -> (x: Double, y: Double) {
        let phi = p.lat * .pi / 180, dl = (p.lon - lon0) * .pi / 180
        let s = sin(phi), c = cos(phi), t = tan(phi)
        let n = Self.a / (1 - Self.e2 * s * s).squareRoot()
        let tt = t * t, cc = Self.ep2 * c * c, aa = dl * c
        let m = Self.meridianArc(phi), m0 = Self.meridianArc(lat0 * .pi / 180)
        let x = n * (aa + (1 - tt + cc) * pow(aa, 3) / 6 + (5 - 18 * tt + tt * tt + 72 * cc - 58 * Self.ep2) * pow(aa, 5) / 120)
        let y = m - m0 + n * t * (aa * aa / 2 + (5 - tt + 9 * cc + 4 * cc * cc) * pow(aa, 4) / 24
            + (61 - 58 * tt + tt * tt + 600 * cc - 330 * Self.ep2) * pow(aa, 6) / 720)
        return (k0 * x + falseEasting, k0 * y + falseNorthing)
    }

    /// (x, y) in metres → (lon, lat) in degrees.
    public func inverse(x: Double, y: Double) -> GeoPoint {
        inverseRow(y: y).point(x: x)
    }

    /// The part of the inverse that depends on the northing only (the footpoint latitude and its
    /// radii: every sine, tangent and power of it), for many points of one northing — a grid's row
    /// of sample points — whose `point(x:)` then costs a few multiplications. Same arithmetic, in
    /// the same order, as `inverse`, which is built on it: the results are identical.
    public func inverseRow(y: Double) -> InverseRow {
        let y = (y - falseNorthing) / k0
        let e2 = Self.e2, ep2 = Self.ep2, a = Self.a
        let m = Self.meridianArc(lat0 * .pi / 180) + y
        let mu = m / (a * (1 - e2 / 4 - 3 * e2 * e2 / 64 - 5 * e2 * e2 * e2 / 256))
        let e1 = (1 - (1 - e2).squareRoot()) / (1 + (1 - e2).squareRoot())
        let phi1 = mu + (3 * e1 / 2 - 27 * pow(e1, 3) / 32) * sin(2 * mu) + (21 * e1 * e1 / 16 - 55 * pow(e1, 4) / 32) * sin(4 * mu)
            + (151 * pow(e1, 3) / 96) * sin(6 * mu) + (1097 * pow(e1, 4) / 512) * sin(8 * mu)
        let s = sin(phi1), c = cos(phi1), t = tan(phi1)
        let c1 = ep2 * c * c, t1 = t * t
        let n1 = a / (1 - e2 * s * s).squareRoot()
        let r1 = a * (1 - e2) / pow(1 - e2 * s * s, 1.5)
        return InverseRow(phi1: phi1, c: c, t: t, c1: c1, t1: t1, n1: n1, r1: r1, lon0: lon0, k0: k0, falseEasting: falseEasting)
    }

    public struct InverseRow: Sendable {
        let phi1: Double, c: Double, t: Double, c1: Double, t1: Double, n1: Double, r1: Double
        let lon0: Double, k0: Double, falseEasting: Double

        public func point(x: Double) -> GeoPoint {
            let x = (x - falseEasting) / k0
            let ep2 = TransverseMercator.ep2
            let d = x / n1
            let phi = phi1 - (n1 * t / r1) * (d * d / 2 - (5 + 3 * t1 + 10 * c1 - 4 * c1 * c1 - 9 * ep2) * pow(d, 4) / 24
                + (61 + 90 * t1 + 298 * c1 + 45 * t1 * t1 - 252 * ep2 - 3 * c1 * c1) * pow(d, 6) / 720)
            let lambda = (d - (1 + 2 * t1 + c1) * pow(d, 3) / 6 + (5 - 2 * c1 + 28 * t1 - 3 * c1 * c1 + 8 * ep2 + 24 * t1 * t1) * pow(d, 5) / 120) / c
            return GeoPoint(lon: lon0 + lambda * 180 / .pi, lat: phi * 180 / .pi)
        }

        /// `point(x:)` with the powers of d written as products (pow was a fifth of a grid build):
        /// may differ from it in the last bit, so it is for classifying sample points (which area a
        /// point lies in), never for coordinates that are stored.
        public func samplePoint(x: Double) -> GeoPoint {
            let x = (x - falseEasting) / k0
            let ep2 = TransverseMercator.ep2
            let d = x / n1, d2 = d * d, d3 = d2 * d, d4 = d2 * d2
            let phi = phi1 - (n1 * t / r1) * (d2 / 2 - (5 + 3 * t1 + 10 * c1 - 4 * c1 * c1 - 9 * ep2) * d4 / 24
                + (61 + 90 * t1 + 298 * c1 + 45 * t1 * t1 - 252 * ep2 - 3 * c1 * c1) * (d4 * d2) / 720)
            let lambda = (d - (1 + 2 * t1 + c1) * d3 / 6 + (5 - 2 * c1 + 28 * t1 - 3 * c1 * c1 + 8 * ep2 + 24 * t1 * t1) * (d3 * d2) / 120) / c
            return GeoPoint(lon: lon0 + lambda * 180 / .pi, lat: phi * 180 / .pi)
        }
    }
}
