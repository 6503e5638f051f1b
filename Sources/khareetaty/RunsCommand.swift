import ArgumentParser
import Foundation
import KhareetatyCore
import Logging

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the last runs from the ledger (pipeline_runs), newest first.",
        discussion: """
            One line per run: when it started (UTC), its id, kind, status, seconds, as-of date, the accounting and
            the first line of its error. A run still `running` with no process behind it is marked failed (stale)
            by the next run that takes the schema's lock.

            \(exitCodesHelp)
            """
    )
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: ArgumentHelp("How many runs to show.", valueName: "n")) var last = 10
    @Flag(name: .long, help: "JSON (an array of objects) instead of the table.") var json = false

    func validate() throws {
        guard (1...10_000).contains(last) else { throw ValidationError("--last must be between 1 and 10000") }
    }

    func run() throws {
        let settings = try global.settings()
        let db = try Database.connect(settings)
        try Migrator(connection: db, schema: settings.schema).requireCurrent()
        let entries = try RunHistory.last(last, db: db, schema: settings.schema)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
        } else {
            print(entries.isEmpty ? "no runs yet in schema \(settings.schema)" : RunHistory.table(entries))
        }
    }
}
