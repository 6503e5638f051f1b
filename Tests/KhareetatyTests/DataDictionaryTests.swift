import Foundation
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// The analyst contract: every table, view and column a run writes explains itself in the database, and
/// docs/DATA-DICTIONARY.md is exactly what the database says.
@Suite struct DataDictionaryTests {
    @Test func everyTableAndColumnHasAComment() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let missing = try db.query("""
                SELECT c.relname || coalesce('.' || a.attname, '')
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                    AND col_description(c.oid, a.attnum) IS NULL
                WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition
                  AND (obj_description(c.oid, 'pg_class') IS NULL OR a.attname IS NOT NULL)
                ORDER BY 1
                """, [schema]).rows.compactMap { $0[0] }
            #expect(missing.isEmpty, "without a comment: \(missing)")
            func count(_ kinds: String) throws -> String? {
                try db.query("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = ANY($2::char[]) AND NOT c.relispartition",
                             [schema, kinds]).scalar
            }
            #expect(try count("{r,p}") == "12")
            // The six views of migration 20, and the PostGIS layers (the test database has PostGIS).
            #expect(try count("{v}") == String(6 + GeometryLayers.views.count))
        }
    }

    @Test func theDocumentIsWhatTheDatabaseSays() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let generated = try DataDictionary.markdown(db: db, schema: schema)
            let document = try String(contentsOfFile: repoPath("docs/DATA-DICTIONARY.md"), encoding: .utf8)
            #expect(document == generated, "docs/DATA-DICTIONARY.md differs from the schema's comments: regenerate it with `make dictionary`")
            #expect(generated.contains("## district_daily") && generated.contains("| `incident_count` | integer |"))
        }
    }
}
