import Foundation
import Geo
import Testing
import TestSupport
@testable import Analytics

// The statistics kernels against their references (pymannkendall, esda, scipy, numpy), in a
// target that needs no PostgreSQL: `swift test --filter AnalyticsTests` runs without a database.

@Suite struct MannKendallReferenceTests {
    /// Series of every kind the trend tables meet: weekly counts with ties and zeros, rising,
    /// falling, flat, short, and real-valued ones.
    static func series() -> [[Double]] {
        var generator = SplitMix64(seed: 2026)
        var all: [[Double]] = [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
                               [3, 3], [5, 1, 5, 1, 5, 1, 5, 1, 5, 1, 5, 1], [0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 4]]
        for k in 0..<200 {
            let n = 3 + Int(generator.next() % 30)
            let trend = (generator.unit() - 0.5) * 2
            all.append((0..<n).map { i in
                k % 2 == 0 ? Double(Int(max(0, Double(i) * trend + generator.unit() * 6))) : Double(i) * trend + generator.unit() * 3
            })
        }
        return all
    }

    @Test func matchesPymannkendall() throws {
        let series = Self.series()
        let script = """
            import json, sys, pymannkendall as mk
            out = []
            for x in json.load(sys.stdin):
                r = mk.original_test(x)
                out.append([float(r.s), float(r.var_s), float(r.z), float(r.p), float(r.Tau), float(r.slope)])
            print(json.dumps(out))
            """
        let reference = try #require(try pyref(script, input: series) as? [[Double]])
        #expect(reference.count == series.count)
        for (x, expected) in zip(series, reference) {
            let ours = try #require(MannKendall(x))
            let actual = [ours.s, ours.varianceS, ours.z, ours.p, ours.tau, ours.senSlope]
            for (name, (a, e)) in zip(["S", "var S", "z", "p", "tau", "Sen's slope"], zip(actual, expected)) {
                #expect(abs(a - e) <= 1e-9 * max(1, abs(e)), "\(name) for \(x): ours \(a), pymannkendall \(e)")
            }
        }
    }
}

@Suite struct GetisOrdReferenceTests {
    /// Queen neighbours (the 8 surrounding cells) on a columns × rows grid.
    static func queen(columns: Int, rows: Int) -> [[Int32]] {
        (0..<(columns * rows)).map { i in
            let (c, r) = (i % columns, i / columns)
            var out: [Int32] = []
            for dr in -1...1 { for dc in -1...1 where !(dr == 0 && dc == 0) {
                let (cc, rr) = (c + dc, r + dr)
                if cc >= 0, cc < columns, rr >= 0, rr < rows { out.append(Int32(rr * columns + cc)) }
            } }
            return out
        }
    }

    func esda(_ y: [Double], _ neighbours: [[Int32]]) throws -> [Double] {
        let script = """
            import json, sys, warnings
            warnings.filterwarnings("ignore")
            import numpy as np, libpysal, esda
            data = json.load(sys.stdin)
            w = libpysal.weights.W({i: list(map(int, nb)) for i, nb in enumerate(data["neighbours"])}, silence_warnings=True)
            g = esda.G_Local(np.array(data["y"], dtype=float), w, transform="B", star=True, permutations=0)
            print(json.dumps([float(z) for z in g.Zs]))
            """
        return try #require(try pyref(script, input: ["y": y, "neighbours": neighbours.map { $0.map(Int.init) }]) as? [Double])
    }

    @Test func syntheticGridMatchesEsda() throws {
        var generator = SplitMix64(seed: 12)
        let (columns, rows) = (25, 20)
        // A hot cluster, a cold corner and noise.
        let y = (0..<(columns * rows)).map { i -> Double in
            let (c, r) = (i % columns, i / columns)
            let hot = abs(c - 8) <= 2 && abs(r - 6) <= 2 ? 6.0 : 0
            return Double(Int(generator.unit() * 3)) + hot + (c > 20 && r > 15 ? -1 : 0) + 1
        }
        let neighbours = Self.queen(columns: columns, rows: rows)
        let ours = GetisOrd.zScores(y, neighbours: Neighbours(neighbours))
        let reference = try esda(y, neighbours)
        for (a, e) in zip(ours, reference) { #expect(abs(a - e) <= 1e-9 * max(1, abs(e)), "ours \(a), esda \(e)") }
        let bins = GetisOrd.bins(z: ours, fdr: true)
        #expect(bins[6 * columns + 8] == 3, "the cluster's centre is a 99% hot spot")
    }

    /// A real window: the bundled Kuwait sample's incidents counted on a 2 km grid over Kuwait City.
    @Test func kuwaitSampleWindowMatchesEsda() throws {
        let tm = TransverseMercator(lon0: 47.5, lat0: 29.3)
        let lines = try String(contentsOfFile: repoPath("fixtures/incidents/kuwait-sample.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        let (columns, rows, size) = (20, 15, 2_000.0)
        let (x0, y0) = tm.forward(GeoPoint(lon: 47.85, lat: 29.20))
        var y = [Double](repeating: 0, count: columns * rows)
        for line in lines {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count > 4, let lat = Double(f[3]), let lon = Double(f[4]) else { continue }
            let (x, yy) = tm.forward(GeoPoint(lon: lon, lat: lat))
            let (c, r) = (Int(((x - x0) / size).rounded(.down)), Int(((yy - y0) / size).rounded(.down)))
            if c >= 0, c < columns, r >= 0, r < rows { y[r * columns + c] += 1 }
        }
        #expect(y.reduce(0, +) > 50, "the window holds real incidents")
        let neighbours = Self.queen(columns: columns, rows: rows)
        let ours = GetisOrd.zScores(y, neighbours: Neighbours(neighbours))
        let reference = try esda(y, neighbours)
        for (a, e) in zip(ours, reference) { #expect(abs(a - e) <= 1e-9 * max(1, abs(e)), "ours \(a), esda \(e)") }
    }

    @Test func falseDiscoveryRateRaisesTheBar() {
        // p-values 0.001 … : with FDR fewer cells pass at each level than without.
        let z = (1...200).map { Double($0) / 60 }
        let plain = GetisOrd.bins(z: z, fdr: false), corrected = GetisOrd.bins(z: z, fdr: true)
        #expect(corrected.filter { $0 != 0 }.count < plain.filter { $0 != 0 }.count)
        #expect(zip(plain, corrected).allSatisfy { abs($1) <= abs($0) })
        #expect(GetisOrd.zScores([2, 2, 2, 2], neighbours: [[1], [0, 2], [1, 3], [2]]) == [0, 0, 0, 0])
    }
}

/// Gi*'s inference: the exact binomial tails against scipy, the conditional permutation against numpy.
@Suite struct HotspotInferenceReferenceTests {
    @Test func binomialTailsMatchScipy() throws {
        let cases: [(Int, Int, Double)] = [(0, 10, 0.1), (3, 10, 0.1), (10, 10, 0.5), (1, 5000, 1e-4), (7, 5000, 1e-4),
                                           (40, 100, 0.3), (2, 104, 0.00023), (250, 50000, 0.004), (180, 50000, 0.004), (5, 5, 0.2)]
        let script = """
            import json, sys
            from scipy.stats import binom
            print(json.dumps([[float(binom.sf(k - 1, n, q)), float(binom.cdf(k, n, q))] for k, n, q in json.load(sys.stdin)]))
            """
        let reference = try #require(try pyref(script, input: cases.map { [$0.0, $0.1, $0.2] }) as? [[Double]])
        for ((k, n, q), e) in zip(cases, reference) {
            let upper = Binomial.upperTail(k, trials: n, probability: q), lower = Binomial.lowerTail(k, trials: n, probability: q)
            #expect(abs(upper - e[0]) <= 1e-9 * max(e[0], 1e-300) + 1e-14, "P(X ≥ \(k)) for Bin(\(n), \(q)): ours \(upper), scipy \(e[0])")
            #expect(abs(lower - e[1]) <= 1e-9 * max(e[1], 1e-300) + 1e-14, "P(X ≤ \(k)) for Bin(\(n), \(q)): ours \(lower), scipy \(e[1])")
        }
    }

    /// Conditional permutation tails (esda's scheme for G_Local(star=True): x_i fixed, its k_i
    /// neighbours drawn without replacement from the other cells) against an independent numpy
    /// implementation with the same number of permutations, within Monte Carlo error.
    @Test func permutationTailsMatchEsdaWithinMonteCarloError() throws {
        var generator = SplitMix64(seed: 31)
        let (columns, rows) = (20, 15)
        let y = (0..<(columns * rows)).map { i -> Double in
            let (c, r) = (i % columns, i / columns)
            return Double(Int(generator.unit() * 2.5)) + (abs(c - 6) <= 1 && abs(r - 5) <= 1 ? 4 : 0)
        }
        let neighbours = GetisOrdReferenceTests.queen(columns: columns, rows: rows)
        let permutations = 999
        let ours = GetisOrd.permutationTails(counts: y, neighbours: Neighbours(neighbours), permutations: permutations, seed: 7)
        let script = """
            import json, sys
            import numpy as np
            data = json.load(sys.stdin)
            y = np.array(data["y"], dtype=float); n = len(y); P = data["permutations"]
            rng = np.random.default_rng(12345)
            greater, lesser = [], []
            for i, nb in enumerate(data["neighbours"]):
                others = np.delete(y, i)
                draws = rng.random((P, n - 1)).argsort(axis=1)[:, :len(nb)]
                sims = y[i] + others[draws].sum(axis=1)
                obs = y[i] + y[nb].sum()
                greater.append(float(((sims >= obs).sum() + 1) / (P + 1)))
                lesser.append(float(((sims <= obs).sum() + 1) / (P + 1)))
            print(json.dumps({"greater": greater, "lesser": lesser}))
            """
        let reference = try #require(try pyref(script, input: ["y": y, "neighbours": neighbours.map { $0.map(Int.init) },
                                                              "permutations": permutations]) as? [String: [Double]])
        let greater = try #require(reference["greater"]), lesser = try #require(reference["lesser"])
        var worst = 0.0
        for i in y.indices {
            for (a, e) in [(ours[i].hot, greater[i]), (ours[i].cold, lesser[i])] {
                let error = 4 * (e * (1 - e) / Double(permutations)).squareRoot() + 2.0 / Double(permutations)
                #expect(abs(a - e) <= error, "cell \(i): ours \(a), numpy \(e)")
                worst = max(worst, abs(a - e))
            }
        }
        #expect(worst > 0, "two generators cannot agree exactly: the comparison is live")
        // The planted block's centre is far in the upper tail.
        #expect(ours[5 * columns + 6].hot < 0.01)
    }
}
