import Postgres

/// docs/DATA-DICTIONARY.md, written from the database's own comments (`COMMENT ON`, migration 19):
/// every table of the schema (partitions left out) with its columns, types and meanings, so the
/// document and what BI tools show can never disagree (a test compares them).
public enum DataDictionary {
    public static func markdown(db: any Queryable, schema: String) throws -> String {
        let tables = try db.query("""
            SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'incidents_stage'
            ORDER BY c.relname
            """, [schema]).typedRows
        var out = """
            # Data dictionary

            Every table Khareetaty writes, with its columns, their types and what they hold. Generated
            from the database's own comments (`COMMENT ON`, which BI and GIS tools show too) by
            `khareetaty dictionary > docs/DATA-DICTIONARY.md`; a test checks that this file equals what a
            freshly migrated schema says. Join every `district_code` to `districts.code`; the category
            `all` is the total over every category (never add it to the others).

            """
        for table in tables {
            let name = try table.text(0)
            out += "\n## \(name)\n\n\(try table.text(1))\n\n| column | type | meaning |\n|---|---|---|\n"
            for column in try db.query("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod), coalesce(col_description(a.attrelid, a.attnum), '')
                FROM pg_attribute a
                WHERE a.attrelid = to_regclass(quote_ident($1) || '.' || quote_ident($2)) AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum
                """, [schema, name]).typedRows {
                out += "| `\(try column.text(0))` | \(try column.text(1)) | \(try column.text(2).replacingOccurrences(of: "|", with: "\\|")) |\n"
            }
        }
        return out
    }
}
