import ArgumentParser
import Foundation
import KhareetatyCore
import Logging

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay fixture directories into scratch schemas and compare the expected tables.",
        discussion: """
            Each DIR holds pipeline.yaml (with its inputs) and expected/<table>.csv files whose headers name the
            columns to compare. The replay migrates a fresh scratch schema, runs the pipeline, compares each table
            as a set of rows (order-independent; numbers within 1e-9 relative; timestamps in UTC), prints a diff,
            and drops the scratch schema. Exit 1 if any table differs. --update rewrites the expected files from
            what the run produced instead.

            \(exitCodesHelp)
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Fixture directories.", valueName: "dir")) var directories: [String]
    @Flag(name: .long, help: "Rewrite expected/*.csv from the actual tables (review the diff before committing).")
    var update = false

    func run() throws {
        let settings = try global.settings()
        var failed: [String] = []
        for directory in directories {
            let outcome = try KhareetatyCore.Replay(directory: directory, settings: settings, logger: Logger(label: "khareetaty")).run(update: update)
            print("replay \(directory): \(update ? "expected files updated" : outcome.matches ? "matches" : "DIFFERS")")
            print(outcome.report)
            if !outcome.matches { failed.append(directory) }
        }
        if let first = failed.first { throw KhareetatyCore.Replay.Mismatch(directory: failed.count == 1 ? first : failed.joined(separator: ", ")) }
    }
}
