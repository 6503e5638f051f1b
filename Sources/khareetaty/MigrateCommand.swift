import ArgumentParser
import Foundation
import KhareetatyCore
import Logging

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the schema: apply pending migrations, each in its own transaction.",
        discussion: """
            Migrations are versioned and recorded in <schema>.schema_migrations. Running it again is a no-op.
            It refuses a schema migrated by a newer khareetaty, or one whose applied migrations were edited.

            \(exitCodesHelp)
            """
    )
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let settings = try global.settings()
        let db = try Database.connect(settings)
        let applied = try Migrator(connection: db, schema: settings.schema, distribution: settings.distribution).migrate()
        if applied.isEmpty {
            print("schema \(settings.schema) is up to date (version \(Migration.latestVersion))")
        } else {
            for migration in applied { print("applied \(migration.version): \(migration.name)") }
            print("schema \(settings.schema) is at version \(Migration.latestVersion)")
        }
        print("distribution: " + (try Distribution.state(db: db, schema: settings.schema)))
        print(try GeometryLayers.state(db: db, schema: settings.schema))
    }
}
