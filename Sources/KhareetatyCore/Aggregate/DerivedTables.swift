import Analytics
import Foundation
import Postgres

/// Every table derived for one as-of date from the stored incidents and daily counts — trends,
/// hot spots, emerging hot spots, as the pipeline's `aggregate.tables` asks — in the caller's
/// transaction. The nightly run calls it for its date; backfills and their workers for each date
/// of their range, so both leave the same rows.
enum DerivedTables {
    struct Counts: Sendable {
        var trendRows = 0
        var hotspotCells = 0
        var emergingCells = 0
        var analyses: [GridRow] = []
    }

    static func rebuild(db: PostgresConnection, schema: String, asOf: String, layer: DistrictLayer, settings: AggregateSettings,
                        cache: HotspotAnalysis.GridCache) throws -> Counts {
        var counts = Counts()
        if settings.tables.contains(.trends) {
            counts.trendRows = try DistrictTrends.rebuild(db: db, schema: schema, asOf: asOf, settings: settings)
        }
        if settings.tables.contains(.hotspots) {
            let (cells, grids) = try Hotspots.rebuild(db: db, schema: schema, asOf: asOf, layer: layer, settings: settings, cache: cache)
            counts.hotspotCells = cells
            counts.analyses += grids
        }
        if settings.tables.contains(.emerging) {
            let (cells, grid) = try EmergingHotspots.rebuild(db: db, schema: schema, asOf: asOf, layer: layer, settings: settings, cache: cache)
            counts.emergingCells = cells
            counts.analyses.append(grid)
        }
        return counts
    }
}
