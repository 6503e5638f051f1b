import Foundation
import Testing
import TestSupport
@testable import KhareetatyCore

/// CI replays every fixture case; a fixture whose expectations no longer hold fails with a diff.
@Suite struct ReplayTests {
    static let cases: [String] = {
        let root = repoPath("fixtures/replay")
        return ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted().map { root + "/" + $0 }
    }()

    @Test func thereAreAtLeastThreeCases() {
        #expect(Self.cases.count >= 3)
    }

    @Test(arguments: cases)
    func everyFixtureReplaysCleanly(directory: String) throws {
        let result = try runCLI(["replay", directory], inheritDatabase: true)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("matches"))
        #expect(!result.stdout.contains("DIFF"))
    }

    @Test func aChangedExpectationFailsWithAReadableDiff() throws {
        // A copy of the messy case whose expected rejects claim one reason wrongly.
        let source = repoPath("fixtures/replay/messy")
        let copy = URL(fileURLWithPath: try temporaryFile("x", contents: "")).deletingLastPathComponent().appendingPathComponent("messy")
        try FileManager.default.createDirectory(at: copy.appendingPathComponent("expected"), withIntermediateDirectories: true)
        let pipeline = try String(contentsOfFile: source + "/pipeline.yaml", encoding: .utf8)
            .replacingOccurrences(of: "../../", with: repoPath("fixtures") + "/").replacingOccurrences(of: repoPath("fixtures") + "/../config", with: repoPath("config"))
        try Data(pipeline.utf8).write(to: copy.appendingPathComponent("pipeline.yaml"))
        let rejects = try String(contentsOfFile: source + "/expected/incident_rejects.csv", encoding: .utf8)
            .replacingOccurrences(of: "18,missing_id", with: "18,bad_coordinates")
        try Data(rejects.utf8).write(to: copy.appendingPathComponent("expected/incident_rejects.csv"))

        let result = try runCLI(["replay", copy.path], inheritDatabase: true)
        #expect(result.status == 1)
        #expect(result.stdout.contains("DIFF  incident_rejects: 1 expected row(s) missing, 1 unexpected"))
        #expect(result.stdout.contains("  - 18,bad_coordinates"))
        #expect(result.stdout.contains("  + 18,missing_id"))
    }

    @Test func numbersCompareWithinTolerance() {
        let same = Replay.compare(table: "t", expected: [["a", "0.30000000000000004"]], actual: [["a", "0.3"]])
        #expect(same.missing.isEmpty && same.unexpected.isEmpty)
        let different = Replay.compare(table: "t", expected: [["a", "0.31"]], actual: [["a", "0.3"]])
        #expect(different.missing == ["a,0.31"] && different.unexpected == ["a,0.3"])
    }
}
