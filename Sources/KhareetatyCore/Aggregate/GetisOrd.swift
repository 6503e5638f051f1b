import Foundation

/// Getis-Ord Gi* (Ord & Getis 1995) with binary weights that include the cell itself — the
/// statistic of ArcGIS "Hot Spot Analysis" and of PySAL's `esda.G_Local(y, w, star=True,
/// transform="B")` (checked against it in the tests):
///
///     z_i = (Σ_j w_ij x_j − x̄ W_i) / (S · √((n W_i − W_i²) / (n − 1))),  W_i = Σ_j w_ij (self included)
///
/// with x̄ the mean and S the population standard deviation of all n cells. When every cell has
/// the same count, S = 0 and there is no pattern: every z is 0.
public enum GetisOrd {
    public static func zScores(_ x: [Double], neighbours: [[Int32]]) -> [Double] {
        let n = Double(x.count)
        guard x.count > 1 else { return x.map { _ in 0 } }
        let mean = x.reduce(0, +) / n
        let s = max(0, x.reduce(0) { $0 + $1 * $1 } / n - mean * mean).squareRoot()
        guard s > 0 else { return x.map { _ in 0 } }
        return x.indices.map { i in
            var local = x[i]
            for j in neighbours[i] { local += x[Int(j)] }
            let w = Double(neighbours[i].count + 1)
            return (local - mean * w) / (s * ((n * w - w * w) / (n - 1)).squareRoot())
        }
    }

    /// Two-sided p-value of a z-score.
    public static func pValue(_ z: Double) -> Double { erfc(abs(z) / 2.0.squareRoot()) }

    /// Confidence bins ±3 (99%), ±2 (95%), ±1 (90%), 0. With `fdr`, the Benjamini–Hochberg false
    /// discovery rate correction decides the critical p-value of each level, as ArcGIS does: at level
    /// α, a cell is significant when its p is at most p₍ₖ₎, the largest sorted p with p₍ₖ₎ ≤ k/n · α.
    public static func bins(z: [Double], fdr: Bool) -> [Int] {
        let p = z.map(pValue)
        let levels: [(alpha: Double, bin: Int)] = [(0.01, 3), (0.05, 2), (0.10, 1)]
        var critical = levels.map(\.alpha)
        if fdr {
            let sorted = p.sorted()
            let n = Double(sorted.count)
            critical = levels.map { level in
                var threshold = -1.0  // nothing significant
                for (k, value) in sorted.enumerated() where value <= Double(k + 1) / n * level.alpha { threshold = value }
                return threshold
            }
        }
        return z.indices.map { i in
            for (index, level) in levels.enumerated() where p[i] <= critical[index] && critical[index] >= 0 {
                return z[i] > 0 ? level.bin : -level.bin
            }
            return 0
        }
    }
}
