import ArgumentParser
import Foundation
import KhareetatyCore
import Logging

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect the effective configuration.",
        subcommands: [Show.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every setting with its effective value and where it came from (secrets redacted).",
            discussion: "\(exitCodesHelp)"
        )
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let settings = try global.settings()
            print(settings.rendered(environment: ProcessInfo.processInfo.environment))
        }
    }
}
