import Analytics
import Foundation
import Geo
import Postgres

/// What the grid analyses read from the database for a set of as-of dates, read once: the
/// incident points of every day their windows reach, and which districts had an incident on each
/// day of the study period. A backfill chunk's dates share them (one query each instead of three
/// per date); a nightly run reads exactly the days it needs.
final class AggregateInputs {
    let db: Transaction
    let schema: String
    let layer: DistrictLayer
    /// First and last as-of date these inputs serve.
    let first: Int, last: Int
    /// The longest window any grid analysis looks back (days, as-of date included).
    let pointDays: Int
    let studyDays: Int

    init(db: Transaction, schema: String, layer: DistrictLayer, dates: [Int], settings: AggregateSettings) {
        (self.db, self.schema, self.layer) = (db, schema, layer)
        first = dates.min() ?? 0
        last = dates.max() ?? -1
        pointDays = max(settings.hotspotWindows.max() ?? 7, settings.trendWeeks * 7)
        studyDays = settings.hotspot.studyDays
    }

    /// Points by day, from `first − pointDays + 1` (index 0) to `last`.
    private var pointsByDay: [[GeoPoint]]?
    /// Layer indices of the districts with an incident, by day from `first − studyDays + 1` to `last`.
    private var districtsByDay: [[Int]]?

    /// Incident points of local dates [asOf − days + 1, asOf], with how many days back each lies
    /// (month-only incidents left out: their day is unknown).
    func points(asOf: Int, days: Int) throws -> [(point: GeoPoint, back: Int)] {
        precondition(asOf >= first && asOf <= last && days <= pointDays, "outside the prefetched days")
        if pointsByDay == nil { pointsByDay = try loadPoints() }
        let start = first - pointDays + 1
        var out: [(GeoPoint, Int)] = []
        for back in 0..<days {
            for p in pointsByDay![asOf - back - start] { out.append((p, back)) }
        }
        return out
    }

    /// Layer indices of the study districts as of `asOf`: those with an incident in the
    /// `studyDays` days up to it, or every district.
    func studyDistricts(asOf: Int, settings: AggregateSettings.Hotspot) throws -> Set<Int> {
        guard settings.studyArea == .activeDistricts else { return Set(layer.districts.indices) }
        precondition(asOf >= first && asOf <= last && settings.studyDays == studyDays, "outside the prefetched days")
        if districtsByDay == nil { districtsByDay = try loadDistricts() }
        let start = first - studyDays + 1
        var study = Set<Int>()
        for day in (asOf - studyDays + 1)...asOf { study.formUnion(districtsByDay![day - start]) }
        return study
    }

    private func loadPoints() throws -> [[GeoPoint]] {
        let start = first - pointDays + 1
        var byDay = [[GeoPoint]](repeating: [], count: last - start + 1)
        try db.forEachRow("""
            SELECT lat, lon, local_date - $1::date FROM \(quoteIdentifier(schema)).incidents
            WHERE local_date BETWEEN $1::date AND $2::date AND lat IS NOT NULL AND time_precision <> 'month'
            """, [CivilDate.isoDate(days: start), CivilDate.isoDate(days: last)]) { row in
            guard let lat = row[0].flatMap(Double.init), let lon = row[1].flatMap(Double.init), let day = row[2].flatMap(Int.init) else { return }
            byDay[day].append(GeoPoint(lon: lon, lat: lat))
        }
        return byDay
    }

    /// From `district_daily` (its `all` rows): it counts exactly the incidents with a district and
    /// a known day, and is far smaller than the incidents.
    private func loadDistricts() throws -> [[Int]] {
        let start = first - studyDays + 1
        var indexOf: [String: Int] = [:]
        for (i, d) in layer.districts.enumerated() { indexOf[d.code] = i }
        var byDay = [[Int]](repeating: [], count: last - start + 1)
        for row in try db.query("""
            SELECT local_date - $1::date, district_code FROM \(quoteIdentifier(schema)).district_daily
            WHERE local_date BETWEEN $1::date AND $2::date AND category = 'all' AND incident_count > 0
            """, [CivilDate.isoDate(days: start), CivilDate.isoDate(days: last)]).typedRows {
            if let d = indexOf[try row.text(1)] { byDay[try row.int(0)].append(d) }
        }
        return byDay
    }
}
