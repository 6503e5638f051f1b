import Postgres

/// docs/DATA-DICTIONARY.md, written from the database's own comments (`COMMENT ON`, migration 19):
/// every table and view of the schema (partitions left out) with its columns, types and meanings, so the
/// document and what BI tools show can never disagree (a test compares them).
public enum DataDictionary {
    public static func markdown(db: any Queryable, schema: String) throws -> String {
        let tables = try db.query("""
            SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), ''), c.relkind = 'v'
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition AND c.relname <> 'incidents_stage'
            ORDER BY c.relkind = 'v', c.relname
            """, [schema]).typedRows
        var out = """
            # Data dictionary

            Every table Khareetaty writes and every view over them, with their columns, types and what
            they hold. Generated from the database's own comments (`COMMENT ON`, which BI and GIS tools
            show too) by `make dictionary`; a test checks that this file equals what a freshly migrated
            schema says. Join every `district_code` to `districts.code` (and `governorate_code` to
            `governorates.code`); the category `all` is the total over every category (never add it to
            the others: `district_daily_by_category` leaves it out). The `*_geo` views exist only where
            PostGIS does (`khareetaty check` says which): typed `geom` columns, SRID 4326, for QGIS.

            """
        for table in tables {
            let name = try table.text(0)
            out += "\n## \(name)\(try table.text(2) == "t" ? " (view)" : "")\n\n\(try table.text(1))\n\n| column | type | meaning |\n|---|---|---|\n"
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
