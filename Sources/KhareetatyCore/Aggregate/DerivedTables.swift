import Analytics
import Foundation
import Postgres

/// What a derived table needs to refresh itself for a run of as-of dates, in the caller's transaction.
struct DerivedContext {
    let db: Transaction
    let schema: String
    let layer: DistrictLayer
    let settings: AggregateSettings
    let cache: HotspotAnalysis.GridCache
    /// The incident points and study districts the grid tables' dates read, read once.
    let inputs: AggregateInputs

    /// Removes a table's rows of the as-of dates `days`.
    func delete(from table: String, days: ClosedRange<Int>, where condition: String = "true") throws {
        try db.query("DELETE FROM \(quoteIdentifier(schema)).\(table) WHERE as_of_date BETWEEN $1::date AND $2::date AND \(condition)",
                     [CivilDate.isoDate(days: days.lowerBound), CivilDate.isoDate(days: days.upperBound)])
    }
}

/// A table derived per as-of date from the stored incidents and daily counts. One type per
/// table, one line in `DerivedTables.registry`: the nightly run, backfills and their workers all
/// refresh through the registry, so they leave the same rows.
protocol DerivedTable {
    /// The `aggregate.tables` entry that turns it on.
    static var key: AggregateSettings.Table { get }
    /// Replaces the table's rows for the as-of dates `days` (the grid analyses compute only the
    /// dates of `gridDates` — each costs a grid — and leave no rows for the others, which would be
    /// from older data); returns the rows written and the analyses it ran.
    static func refresh(_ context: DerivedContext, days: ClosedRange<Int>, gridDates: [Int]) throws -> (rows: Int, analyses: [GridRow])
}

/// Every table derived for as-of dates, as the pipeline's `aggregate.tables` asks.
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

    /// One as-of date: every table.
    static func rebuild(db: Transaction, schema: String, asOf: String, layer: DistrictLayer, settings: AggregateSettings,
                        cache: HotspotAnalysis.GridCache) throws -> Counts {
        let day = CivilDate.parseISODate(asOf)!
        return try rebuild(db: db, schema: schema, days: day...day, gridDates: [day], layer: layer, settings: settings, cache: cache)
    }

    /// The as-of dates `days`: trends for each, the grid tables for those of `gridDates`.
    static func rebuild(db: Transaction, schema: String, days: ClosedRange<Int>, gridDates: [Int], layer: DistrictLayer,
                        settings: AggregateSettings, cache: HotspotAnalysis.GridCache) throws -> Counts {
        let inputs = AggregateInputs(db: db, schema: schema, layer: layer, dates: gridDates, settings: settings)
        let context = DerivedContext(db: db, schema: schema, layer: layer, settings: settings, cache: cache, inputs: inputs)
        var counts = Counts()
        for table in registry where settings.tables.contains(table.key) {
            let (rows, analyses) = try table.refresh(context, days: days, gridDates: gridDates)
            counts.rows[table.key] = rows
            counts.analyses += analyses
        }
        return counts
    }
}

extension DistrictTrends: DerivedTable {
    static let key = AggregateSettings.Table.trends
    static func refresh(_ c: DerivedContext, days: ClosedRange<Int>, gridDates: [Int]) throws -> (rows: Int, analyses: [GridRow]) {
        (try rebuild(db: c.db, schema: c.schema, days: days, settings: c.settings), [])
    }
}

extension Hotspots: DerivedTable {
    static let key = AggregateSettings.Table.hotspots
    static func refresh(_ c: DerivedContext, days: ClosedRange<Int>, gridDates: [Int]) throws -> (rows: Int, analyses: [GridRow]) {
        try c.delete(from: "hotspot_cells", days: days)
        try c.delete(from: "hotspot_grids", days: days, where: "analysis = 'hotspot'")
        var total = 0, analyses: [GridRow] = []
        for day in gridDates {
            let (cells, grids) = try rebuild(db: c.db, schema: c.schema, asOf: day, inputs: c.inputs, layer: c.layer, settings: c.settings, cache: c.cache)
            total += cells
            analyses += grids
        }
        return (total, analyses)
    }
}

extension EmergingHotspots: DerivedTable {
    static let key = AggregateSettings.Table.emerging
    static func refresh(_ c: DerivedContext, days: ClosedRange<Int>, gridDates: [Int]) throws -> (rows: Int, analyses: [GridRow]) {
        try c.delete(from: "emerging_hotspots", days: days)
        try c.delete(from: "hotspot_grids", days: days, where: "analysis = 'emerging'")
        var total = 0, analyses: [GridRow] = []
        for day in gridDates {
            let (cells, grid) = try rebuild(db: c.db, schema: c.schema, asOf: day, inputs: c.inputs, layer: c.layer, settings: c.settings, cache: c.cache)
            total += cells
            analyses.append(grid)
        }
        return (total, analyses)
    }
}
