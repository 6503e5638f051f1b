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
    @OptionGroup var pipelineOptions: PipelineOptions

    func run() throws {
        let loader = global.loader()
        var settings = try global.settings()
        if let pipeline = pipelineOptions.pipeline {
            settings.pipelinePath = pipeline
        } else {
            settings = RecordedPipeline.choose(settings: settings, from: nil, to: nil, logger: Logger(label: "khareetaty"))
        }
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
