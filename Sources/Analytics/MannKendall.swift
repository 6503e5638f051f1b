import Foundation

/// The Mann-Kendall trend test and Sen's slope, as `pymannkendall.original_test` computes them
/// (checked against it in the test suite): S, the tie-corrected variance of S, z with continuity
/// correction, two-sided p, Kendall's tau = S / (n(n−1)/2), and Sen's slope = the median of all
/// pairwise slopes (x[j] − x[i]) / (j − i).
public struct MannKendall: Sendable, Equatable {
    public var s: Double
    public var varianceS: Double
    public var z: Double
    public var p: Double
    public var tau: Double
    public var senSlope: Double

    public init?(_ x: [Double]) {
        let n = x.count
        guard n >= 2 else { return nil }
        var s = 0.0
        for i in 0..<(n - 1) {
            for j in (i + 1)..<n {
                s += x[j] > x[i] ? 1 : (x[j] < x[i] ? -1 : 0)
            }
        }
        // Tie correction: groups of equal values.
        var groups: [Double: Int] = [:]
        for value in x { groups[value, default: 0] += 1 }
        let nn = Double(n)
        var variance = nn * (nn - 1) * (2 * nn + 5)
        if groups.count < n {
            for t in groups.values where t > 1 {
                let tt = Double(t)
                variance -= tt * (tt - 1) * (2 * tt + 5)
            }
        }
        variance /= 18
        let z: Double
        if s > 0 { z = (s - 1) / variance.squareRoot() } else if s < 0 { z = (s + 1) / variance.squareRoot() } else { z = 0 }
        self.s = s
        self.varianceS = variance
        self.z = z
        p = 2 * (1 - Self.normalCDF(abs(z)))
        tau = s / (0.5 * nn * (nn - 1))
        var slopes: [Double] = []
        slopes.reserveCapacity(n * (n - 1) / 2)
        for i in 0..<(n - 1) {
            for j in (i + 1)..<n { slopes.append((x[j] - x[i]) / Double(j - i)) }
        }
        senSlope = Self.median(slopes)
    }

    /// Standard normal CDF.
    public static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let m = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2
    }
}
