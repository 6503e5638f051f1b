import ArgumentParser
import Foundation
import KhareetatyCore

struct Dictionary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the data dictionary (every table and column with its meaning) from the schema's comments, as Markdown.",
        discussion: "The source of docs/DATA-DICTIONARY.md: `khareetaty dictionary > docs/DATA-DICTIONARY.md`.\n\n\(exitCodesHelp)"
    )
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let settings = try global.settings()
        let db = try Database.connect(settings)
        try Migrator(connection: db, schema: settings.schema).requireCurrent()
        print(try DataDictionary.markdown(db: db, schema: settings.schema), terminator: "")
    }
}
