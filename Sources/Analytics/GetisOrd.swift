import Foundation
import Geo

/// Getis-Ord Gi* (Ord & Getis 1995) with binary weights that include the cell itself — the
/// statistic of ArcGIS "Hot Spot Analysis" and of PySAL's `esda.G_Local(y, w, star=True,
/// transform="B")` (checked against it in the tests):
///
///     z_i = (Σ_j w_ij x_j − x̄ W_i) / (S · √((n W_i − W_i²) / (n − 1))),  W_i = Σ_j w_ij (self included)
///
/// with x̄ the mean and S the population standard deviation of all n cells. When every cell has
/// the same count, S = 0 and there is no pattern: every z is 0.
///
/// The z-score is reported, but significance never comes from its normal approximation, which
/// fails on sparse, zero-inflated counts (hundreds of "99 %" cells in random data). It comes from
/// the distribution of the local sum L_i = x_i + Σ_neighbours x_j under a null model
/// (docs/ANALYTICS.md): exact under complete spatial randomness (`csrTails`), or by Monte Carlo
/// conditional permutation as esda computes `p_sim` (`permutationTails`).
public enum GetisOrd {
    public static func zScores(_ x: [Double], neighbours: Neighbours) -> [Double] {
        let n = Double(x.count)
        guard x.count > 1 else { return x.map { _ in 0 } }
        let mean = x.reduce(0, +) / n
        let s = max(0, x.reduce(0) { $0 + $1 * $1 } / n - mean * mean).squareRoot()
        guard s > 0 else { return x.map { _ in 0 } }
        let local = neighbours.localSums(x)
        return x.indices.map { i in
            let w = Double(neighbours.degree(i) + 1)
            return (local[i] - mean * w) / (s * ((n * w - w * w) / (n - 1)).squareRoot())
        }
    }

    /// Two-sided p-value of a z-score under the normal approximation (reported by esda as p_norm;
    /// not used for significance).
    public static func pValue(_ z: Double) -> Double { erfc(abs(z) / 2.0.squareRoot()) }

    /// One-sided tail probabilities of a cell's local sum under the null: `hot` = P(L ≥ observed),
    /// `cold` = P(L ≤ observed). Ties count in both tails, so sparse data is judged conservatively.
    public struct Tails: Sendable, Equatable {
        public var hot: Double
        public var cold: Double
        public init(hot: Double, cold: Double) { self.hot = hot; self.cold = cold }
        /// Two-sided p: twice the smaller tail, at most 1.
        public var p: Double { min(1, 2 * min(hot, cold)) }
        /// +1 when the smaller tail is the upper one (more than expected), −1 the lower, 0 neither.
        public var sign: Int { hot < cold ? 1 : (cold < hot ? -1 : 0) }
    }

    /// Local sums x_i + Σ_neighbours x_j.
    public static func localSums(_ x: [Double], neighbours: Neighbours) -> [Double] { neighbours.localSums(x) }

    /// Exact tails under complete spatial randomness over the study area: each of the N incidents
    /// of the window lies independently at a uniform point of it, so with `share[j]` the fraction of
    /// the study area in cell j, the local sum of cell i is Binomial(N, Σ_{j ∈ i and its neighbours}
    /// share[j]). This is the limit of permuting the incidents' locations infinitely many times:
    /// no Monte Carlo error, no seed, and valid however sparse the counts are.
    public static func csrTails(counts x: [Double], neighbours: Neighbours, share: [Double]) -> [Tails] {
        let n = Int(x.reduce(0, +).rounded())
        let q = neighbours.neighbourhoodShares(share, total: share.reduce(0, +))
        let sums = neighbours.localSums(x)
        var tails = TailMemo(trials: n)
        return x.indices.map { i in tails.binomial(Int(sums[i].rounded()), q[i]) }
    }

    /// Binomial(n, q) tails of local sums, each distinct (k, q) computed once: on a grid most cells
    /// are empty and whole, so millions of cells come down to a few thousand pairs.
    struct TailMemo {
        let trials: Int
        private var memo: [Key: Tails] = [:]
        private var last: (Key, Tails)?
        struct Key: Hashable { var k: Int; var q: UInt64 }
        init(trials: Int) { self.trials = trials }

        mutating func binomial(_ k: Int, _ q: Double) -> Tails {
            let key = Key(k: k, q: q.bitPattern)
            if let last, last.0 == key { return last.1 }
            let tails = memo[key] ?? {
                let t = Tails(hot: Binomial.upperTail(k, trials: trials, probability: q), cold: Binomial.lowerTail(k, trials: trials, probability: q))
                memo[key] = t
                return t
            }()
            last = (key, tails)
            return tails
        }
    }

    /// Monte Carlo conditional permutation, as esda's `crand` for `G_Local(star=True)`: x_i is held
    /// fixed and its k_i neighbours' values are drawn without replacement from the other n − 1
    /// cells, `permutations` times from a generator seeded with `seed`, so a run is reproducible.
    /// Tails are (1 + #{simulated ≥ observed}) / (permutations + 1) and the same with ≤ (esda's
    /// `alternative="greater"` and `"lesser"`). Cells with the same (k_i, x_i) share one set of
    /// draws, as all of esda's cells share one set of permuted ids: their null distribution is the same.
    public static func permutationTails(counts x: [Double], neighbours: Neighbours, permutations: Int, seed: UInt64) -> [Tails] {
        let n = x.count
        guard n > 1, permutations > 0 else { return x.map { _ in Tails(hot: 1, cold: 1) } }
        struct Key: Hashable { var k: Int; var value: Double }
        var representative: [Key: Int] = [:]
        for i in x.indices where representative[Key(k: neighbours.degree(i), value: x[i])] == nil { representative[Key(k: neighbours.degree(i), value: x[i])] = i }
        var generator = SplitMix64(seed: seed)
        var simulations: [Key: [Double]] = [:]
        for (key, excluded) in representative.sorted(by: { ($0.key.k, $0.key.value) < ($1.key.k, $1.key.value) }) {
            let k = min(key.k, n - 1)
            var sums = [Double](repeating: 0, count: permutations)
            var chosen = [Int](repeating: 0, count: k)
            for p in 0..<permutations {
                var sum = key.value
                for m in 0..<k {
                    var index: Int
                    repeat {
                        index = Int(generator.next() % UInt64(n - 1))
                    } while chosen[0..<m].contains(index)
                    chosen[m] = index
                    sum += x[index < excluded ? index : index + 1]
                }
                sums[p] = sum
            }
            sums.sort()
            simulations[key] = sums
        }
        let observed = localSums(x, neighbours: neighbours)
        return x.indices.map { i in
            let sims = simulations[Key(k: neighbours.degree(i), value: x[i])]!
            let below = lowerBound(sims, observed[i])            // #{sim < observed}
            let notAbove = upperBound(sims, observed[i])         // #{sim ≤ observed}
            let denominator = Double(permutations + 1)
            return Tails(hot: Double(permutations - below + 1) / denominator, cold: Double(notAbove + 1) / denominator)
        }
    }

    static func lowerBound(_ sorted: [Double], _ value: Double) -> Int {
        var (lo, hi) = (0, sorted.count)
        while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] < value { lo = mid + 1 } else { hi = mid } }
        return lo
    }

    static func upperBound(_ sorted: [Double], _ value: Double) -> Int {
        var (lo, hi) = (0, sorted.count)
        while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] <= value { lo = mid + 1 } else { hi = mid } }
        return lo
    }

    /// Confidence bins ±3 (99%), ±2 (95%), ±1 (90%), 0 from two-sided p-values and the side of each
    /// cell. With `fdr`, the Benjamini–Hochberg false discovery rate correction decides the
    /// critical p-value of each level, as ArcGIS does: at level α, a cell is significant when its p
    /// is at most p₍ₖ₎, the largest sorted p with p₍ₖ₎ ≤ k/n · α. When no cell departs from the null,
    /// BH bounds the chance of any significant cell by α (the family-wise rate).
    public static func bins(p: [Double], sign: [Int], fdr: Bool) -> [Int] {
        let levels: [(alpha: Double, bin: Int)] = [(0.01, 3), (0.05, 2), (0.10, 1)]
        var critical = levels.map(\.alpha)
        if fdr {
            // Only p ≤ the largest level can pass, and the rank of such a p among all is its rank
            // among those: sorting them alone gives the same thresholds (millions of cells, few small p).
            let largest = levels.map(\.alpha).max()!
            let sorted = p.filter { $0 <= largest }.sorted()
            let n = Double(p.count)
            critical = levels.map { level in
                var threshold = -1.0  // nothing significant
                for (k, value) in sorted.enumerated() where value <= Double(k + 1) / n * level.alpha { threshold = value }
                return threshold
            }
        }
        return p.indices.map { i in
            guard sign[i] != 0 else { return 0 }
            for (index, level) in levels.enumerated() where p[i] <= critical[index] && critical[index] >= 0 {
                return sign[i] * level.bin
            }
            return 0
        }
    }

    public static func bins(tails: [Tails], fdr: Bool) -> [Int] {
        bins(p: tails.map(\.p), sign: tails.map(\.sign), fdr: fdr)
    }

    /// Bins from the normal approximation of z (the method this replaced; kept for the reference tests).
    public static func bins(z: [Double], fdr: Bool) -> [Int] {
        bins(p: z.map(pValue), sign: z.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, fdr: fdr)
    }
}

/// Binomial tail probabilities, summed term by term from the probability mass at the edge of the
/// tail (computed through log-gamma), away from the mean, so small tails keep full relative precision.
public enum Binomial {
    static func logMass(_ k: Int, _ n: Int, _ q: Double) -> Double {
        lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1) + Double(k) * log(q) + Double(n - k) * log1p(-q)
    }

    /// P(X ≥ k) for X ~ Binomial(n, q).
    public static func upperTail(_ k: Int, trials n: Int, probability q: Double) -> Double {
        if k <= 0 { return 1 }
        if k > n { return 0 }
        if q <= 0 { return 0 }
        if q >= 1 { return 1 }
        if Double(k) <= Double(n) * q { return 1 - lowerTail(k - 1, trials: n, probability: q) }
        var term = exp(logMass(k, n, q)), sum = 0.0, j = k
        let ratio = q / (1 - q)
        while j <= n {
            sum += term
            if term < sum * 1e-17 { break }
            term *= Double(n - j) / Double(j + 1) * ratio
            j += 1
        }
        return min(1, sum)
    }

    /// P(X ≤ k) for X ~ Binomial(n, q).
    public static func lowerTail(_ k: Int, trials n: Int, probability q: Double) -> Double {
        if k < 0 { return 0 }
        if k >= n { return 1 }
        if q <= 0 { return 1 }
        if q >= 1 { return 0 }
        if Double(k) >= Double(n) * q { return 1 - upperTail(k + 1, trials: n, probability: q) }
        var term = exp(logMass(k, n, q)), sum = 0.0, j = k
        let ratio = (1 - q) / q
        while j >= 0 {
            sum += term
            if term < sum * 1e-17 { break }
            term *= Double(j) / Double(n - j + 1) * ratio
            j -= 1
        }
        return min(1, sum)
    }

    /// Two-sided exact p of the conditional test of two Poisson counts: given a + b events, is `a`
    /// (observed over `exposureA`) out of line with `b` (over `exposureB`)? a ~ Binomial(a + b,
    /// exposureA / (exposureA + exposureB)) under equal rates; twice the smaller tail, at most 1.
    public static func ratePValue(_ a: Int, exposureA: Double, _ b: Int, exposureB: Double) -> Double {
        let n = a + b
        guard n > 0 else { return 1 }
        let q = exposureA / (exposureA + exposureB)
        return min(1, 2 * min(upperTail(a, trials: n, probability: q), lowerTail(a, trials: n, probability: q)))
    }
}
