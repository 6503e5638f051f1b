import Foundation
import Logging
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// The two ways a month reaches `incidents`: a month without a partition is built as a table,
/// indexed and attached; a month with one takes an INSERT. Both must give the same tables, and an
/// attached month must carry the same keys and indexes as one created the ordinary way.
@Suite struct LoadPathTests {
    let inputs = [repoPath("fixtures/incidents/kuwait-sample.csv"), repoPath("fixtures/incidents/messy/kuwait-messy.csv"),
                  repoPath("fixtures/incidents/xml/kuwait-feed.xml")]

    /// The staging COPY's layout is the one description of an incident row: it names every column
    /// `incidents` has (a migration adding one must add it there too), and staging's two more.
    @Test func theStagingLayoutNamesEveryColumnOfIncidents() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            func columns(_ table: String) throws -> Set<String> {
                Set(try db.query("""
                    SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2
                    """, [schema, table]).rows.compactMap { $0[0] })
            }
            #expect(try columns("incidents") == Set(IncidentStore.incidentColumns))
            #expect(Set(IncidentStore.stageLayout.names).subtracting(IncidentStore.incidentColumns) == ["seq", "maybe_repeat"])
            #expect(try columns("incident_rejects").isSuperset(of: IncidentStore.rejectLayout.names))
        }
    }

    func load(schema: String, db: PostgresConnection, precreate: Bool) throws -> RunSummary {
        var runner = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24", inputs: inputs)
        runner.pipeline.clean.maxRejectRatio = 0.5
        if precreate {
            // Every month of the inputs already has its (empty) partition, as on a nightly run.
            try db.execute("""
                DO $$ DECLARE m date; BEGIN
                FOR m IN SELECT generate_series(date '2015-01-01', date '2027-12-01', interval '1 month') LOOP
                    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.incidents FOR VALUES FROM (%L) TO (%L)',
                                   '\(schema)', 'incidents_' || to_char(m, 'YYYY_MM'), '\(schema)', m, (m + interval '1 month')::date);
                END LOOP; END $$
                """)
        }
        return try runner.run()
    }

    func contents(_ db: PostgresConnection, _ schema: String) throws -> [[String?]] {
        let s = quoteIdentifier(schema)
        return try db.query("""
            SELECT 'i', incident_id, local_date::text, district_code, category, geocode_method, source_line::text, array_to_string(flags, ',') FROM \(s).incidents
            UNION ALL SELECT 'd', local_date::text, district_code, category, incident_count::text, NULL, NULL, NULL FROM \(s).district_daily
            UNION ALL SELECT 'r', source_file, source_line::text, reason_code, NULL, NULL, NULL, NULL FROM \(s).incident_rejects
            ORDER BY 1, 2, 3, 4, 5
            """).rows.map { row in row.map { $0?.replacingOccurrences(of: "\(schema)", with: "S") } }
    }

    @Test func newAndExistingMonthsGiveTheSameTables() throws {
        try withScratchSchema { db, attached in
            let first = try load(schema: attached, db: db, precreate: false)
            try withScratchSchema { db2, inserted in
                let second = try load(schema: inserted, db: db2, precreate: true)
                #expect(first.accountingHolds && second.accountingHolds)
                #expect(first.rowsLoaded == second.rowsLoaded && first.rowsDuplicate == second.rowsDuplicate)
                #expect(first.rowsLoaded > 300)
                let a = try contents(db, attached), b = try contents(db2, inserted)
                #expect(a.count == b.count)
                #expect(a == b)
            }
        }
    }

    @Test func anAttachedMonthHasTheKeysAndIndexes() throws {
        try withScratchSchema { db, schema in
            _ = try load(schema: schema, db: db, precreate: false)
            let partition = try #require(try db.query("""
                SELECT c.relname FROM pg_inherits JOIN pg_class c ON c.oid = inhrelid JOIN pg_class p ON p.oid = inhparent
                JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = $1 AND p.relname = 'incidents' ORDER BY 1 LIMIT 1
                """, [schema]).scalar)
            let indexes = try db.query("SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY 1",
                                       [schema, partition]).rows.map { $0[0]! }
            #expect(indexes.count == 2, "\(indexes)")
            #expect(indexes.contains { $0.contains("UNIQUE") && $0.contains("(incident_id, local_date)") })
            #expect(indexes.contains { $0.contains("(local_date)") && !$0.contains("UNIQUE") })
            // The key is enforced through the parent.
            let s = quoteIdentifier(schema)
            do {
                try db.execute("INSERT INTO \(s).incidents SELECT * FROM \(s).\(quoteIdentifier(partition)) LIMIT 1")
                Issue.record("a duplicate key was accepted")
            } catch let error as PostgresError {
                #expect(error.sqlState == "23505")
            }
        }
    }
}
