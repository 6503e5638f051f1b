import Foundation
import Geo
import Testing
@testable import KhareetatyCore

/// Runs a Python snippet in the reference environment (`scripts/pyref.sh`, run by `make test`),
/// feeding it JSON on stdin and reading JSON from stdout.
func pyref(_ script: String, input: Any) throws -> Any {
    let python = repoPath(".build/pyref/bin/python")
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw TestSetupError(description: "no reference environment at \(python): run scripts/pyref.sh (make test does)")
    }
    let data = try shell(python, ["-c", script], input: try JSONSerialization.data(withJSONObject: input))
    return try JSONSerialization.jsonObject(with: data)
}

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
