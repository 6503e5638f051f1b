import Analytics
import Foundation
import Postgres

/// What a derived table needs to refresh itself for one as-of date, in the caller's transaction.
struct DerivedContext {
    let db: Transaction
    let schema: String
    let layer: DistrictLayer
    let settings: AggregateSettings
    let cache: HotspotAnalysis.GridCache
}

/// A table derived for one as-of date from the stored incidents and daily counts. One type per
/// table, one line in `DerivedTables.registry`: the nightly run, backfills and their workers all
/// refresh through the registry, so they leave the same rows.
protocol DerivedTable {
    /// The `aggregate.tables` entry that turns it on.
    static var key: AggregateSettings.Table { get }
    /// Replaces the table's rows for `asOf`; returns the rows written and the analyses it ran.
    static func refresh(_ context: DerivedContext, asOf: String) throws -> (rows: Int, analyses: [GridRow])
}

/// Every table derived for one as-of date, as the pipeline's `aggregate.tables` asks.
/// (`district_daily` is by day, not by as-of date: the load's finish and a backfill's chunk
/// rebuild it for the days they touch, before these.)
enum DerivedTables {
    static var registry: [any DerivedTable.Type] { [DistrictTrends.self, Hotspots.self, EmergingHotspots.self] }

    struct Counts: Sendable {
        var rows: [AggregateSettings.Table: Int] = [:]
        var analyses: [GridRow] = []
        var trendRows: Int { rows[.trends] ?? 0 }
        var hotspotCells: Int { rows[.hotspots] ?? 0 }
        var emergingCells: Int { rows[.emerging] ?? 0 }
    }

    static func rebuild(db: Transaction, schema: String, asOf: String, layer: DistrictLayer, settings: AggregateSettings,
                        cache: HotspotAnalysis.GridCache) throws -> Counts {
        let context = DerivedContext(db: db, schema: schema, layer: layer, settings: settings, cache: cache)
        var counts = Counts()
        for table in registry where settings.tables.contains(table.key) {
            let (rows, analyses) = try table.refresh(context, asOf: asOf)
            counts.rows[table.key] = rows
            counts.analyses += analyses
        }
        return counts
    }
}

extension DistrictTrends: DerivedTable {
    static let key = AggregateSettings.Table.trends
    static func refresh(_ c: DerivedContext, asOf: String) throws -> (rows: Int, analyses: [GridRow]) {
        (try rebuild(db: c.db, schema: c.schema, asOf: asOf, settings: c.settings), [])
    }
}

extension Hotspots: DerivedTable {
    static let key = AggregateSettings.Table.hotspots
    static func refresh(_ c: DerivedContext, asOf: String) throws -> (rows: Int, analyses: [GridRow]) {
        let (cells, grids) = try rebuild(db: c.db, schema: c.schema, asOf: asOf, layer: c.layer, settings: c.settings, cache: c.cache)
        return (cells, grids)
    }
}

extension EmergingHotspots: DerivedTable {
    static let key = AggregateSettings.Table.emerging
    static func refresh(_ c: DerivedContext, asOf: String) throws -> (rows: Int, analyses: [GridRow]) {
        let (cells, grid) = try rebuild(db: c.db, schema: c.schema, asOf: asOf, layer: c.layer, settings: c.settings, cache: c.cache)
        return (cells, [grid])
    }
}
