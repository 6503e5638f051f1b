import ArgumentParser
import Foundation
import KhareetatyCore
import Logging

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify config, pipeline, boundaries, database, schema version and privileges.",
        discussion: "Prints one line per check; on a failure exits 2 (configuration, privileges, boundaries), 75 (database unreachable: try later) or 1, naming what failed.\n\n\(exitCodesHelp)"
    )
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let loader = global.loader()
        let settings = try global.settings()
        let results = Checks(settings: settings, configFile: loader.configFile()?.path).run()
        for result in results {
            print("\(result.ok ? "ok  " : "FAIL")  \(result.name.padding(toLength: 10, withPad: " ", startingAt: 0))  \(result.detail)")
        }
        let failed = results.filter { !$0.ok }.map(\.name)
        if !failed.isEmpty { throw ChecksFailed(names: failed, exitCode: Checks.exitCode(of: results)) }
    }
}

struct ChecksFailed: ExitCodeProviding, CustomStringConvertible {
    let names: [String]
    let exitCode: ExitCode
    var description: String { "check failed: " + names.joined(separator: ", ") }
}
