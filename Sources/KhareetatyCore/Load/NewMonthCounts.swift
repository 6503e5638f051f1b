import Postgres

/// The daily and monthly counts (`district_daily`'s and `district_monthly`'s rows) of a run's
/// *new* months, summed by the loader while it stages them. A new month has no stored incident
/// (its partition did not exist), so its counts are exactly what the run keeps there: every staged
/// incident with an area, less the duplicates `finish` deletes. Written by COPY, they spare the
/// recount its aggregate over every new row (a first load or a backfill of new months: ≈ 1 s at a
/// million incidents); the months that held incidents are still recounted by the server.
///
/// Keys are small integers (area by the layer's index, category by a short scan, day by a flat
/// array), so counting costs the loading thread ≈ 0.1 s a million rows; memory grows with the
/// days × areas × categories that occur, not with the rows.
struct NewMonthCounts {
    private var counts: [UInt64: Int32] = [:]
    /// Month-only incidents, keyed by their month's first day (where they are stored).
    private var monthOnly: [UInt64: Int32] = [:]
    /// Areas and categories as small integers: by code, and (areas) by the layer's index when the
    /// geocode stage gave it (an array read instead of hashing the code, per row).
    private var districtSlot: [String: Int] = [:]
    private var slotOfLayerIndex: [Int] = []
    private var districtCodes: [String] = []
    private var categorySlot: [String: Int] = [:]
    private var categories: [String] = []
    /// Whether day `firstDay + i` is counted here: a flat array, not a set (a lookup per row).
    private var dayFlags: [Bool] = []
    private var firstDay: Int32 = 0

    /// Days this run counted (staged in a new month), whether or not a count survived.
    private(set) var days: Set<Int32> = []

    /// Nothing to write: no new month, or more areas or categories than a key holds (then the
    /// server recounts those days too).
    var isEmpty: Bool { days.isEmpty || overflowed }
    private var overflowed = false

    private static let categoryBits: UInt64 = 12
    private static let districtBits: UInt64 = 20

    /// Takes a day of a new month: its counts are this run's (even if none survive, e.g. all its
    /// incidents unassigned: then it has no row).
    mutating func touch(day: Int32) {
        guard days.insert(day).inserted else { return }
        if dayFlags.isEmpty {
            firstDay = day
        } else if day < firstDay {
            dayFlags.insert(contentsOf: repeatElement(false, count: Int(firstDay - day)), at: 0)
            firstDay = day
        }
        let i = Int(day - firstDay)
        if i >= dayFlags.count { dayFlags.append(contentsOf: repeatElement(false, count: i - dayFlags.count + 1)) }
        dayFlags[i] = true
    }

    /// Whether `day` is one of the new months' (`touch`ed).
    @inline(__always)
    func counts(day: Int32) -> Bool {
        let i = Int(day) - Int(firstDay)
        return i >= 0 && i < dayFlags.count && dayFlags[i]
    }

    /// Counts (or with a negative `count`, takes back) incidents of a `touch`ed day.
    /// `layerIndex`: the area's index in the district layer, when known.
    /// `isMonthOnly`: an incident known only to its month, `day` that month's first day (it counts
    /// in `district_monthly` only).
    mutating func add(day: Int32, district: String, layerIndex: Int? = nil, category: String, count: Int32 = 1, isMonthOnly: Bool = false) {
        guard !overflowed, let key = key(day: day, district: district, layerIndex: layerIndex, category: category) else { return }
        if isMonthOnly { monthOnly[key, default: 0] += count } else { counts[key, default: 0] += count }
    }

    /// The new months (first days): every day of theirs is counted here, so are their monthly counts.
    var months: Set<Int32> { Set(days.map(Self.firstOfMonth)) }

    static func firstOfMonth(_ day: Int32) -> Int32 {
        let (y, m, _) = CivilDate.civil(days: Int(day))
        return Int32(CivilDate.days(year: y, month: m, day: 1))
    }

    private mutating func key(day: Int32, district: String, layerIndex: Int?, category: String) -> UInt64? {
        var d = -1
        if let layerIndex, layerIndex < slotOfLayerIndex.count { d = slotOfLayerIndex[layerIndex] }
        if d < 0 {
            if let known = districtSlot[district] { d = known } else {
                d = districtCodes.count
                districtSlot[district] = d
                districtCodes.append(district)
            }
            if let layerIndex {
                if layerIndex >= slotOfLayerIndex.count {
                    slotOfLayerIndex.append(contentsOf: repeatElement(-1, count: layerIndex - slotOfLayerIndex.count + 1))
                }
                slotOfLayerIndex[layerIndex] = d
            }
        }
        // A pipeline has a handful of categories: a linear scan of short strings beats hashing one.
        var c = -1
        if categories.count <= 16 {
            c = categories.firstIndex(of: category) ?? -1
        } else {
            c = categorySlot[category] ?? -1
        }
        if c < 0 {
            c = categories.count
            categorySlot[category] = c
            categories.append(category)
        }
        guard d < 1 << Self.districtBits && c < 1 << Self.categoryBits else {
            (overflowed, counts, monthOnly) = (true, [:], [:])
            return nil
        }
        return Self.key(day: day, rest: UInt64(d) << Self.categoryBits | UInt64(c))
    }

    /// A key: the day in the high bits (its sign flipped, so days before 1970 sort first), then area
    /// and category (`rest`).
    private static func key(day: Int32, rest: UInt64) -> UInt64 {
        UInt64(UInt32(bitPattern: day) ^ 0x8000_0000) << (districtBits + categoryBits) | rest
    }

    private static func day(of key: UInt64) -> Int32 {
        Int32(bitPattern: UInt32(truncatingIfNeeded: key >> (districtBits + categoryBits)) ^ 0x8000_0000)
    }

    typealias Row = (day: Int32, district: String, category: String, count: Int32)

    /// The rows to store, by day (the primary key's leading column): per (day, area) each
    /// category's count, then `all`. Counts netted to zero are left out (a missing row is zero).
    func forEachRow(_ body: (Row) throws -> Void) rethrows {
        try forEachGroup(counts, zero: 0, plus: +, isZero: { $0 == 0 }) { try body(($0, $1, $2, $3)) }
    }

    typealias MonthRow = (month: Int32, district: String, category: String, count: Int32, monthOnly: Int32)

    /// `district_monthly`'s rows of the new months: the days' counts summed by month, month-only
    /// incidents in both columns, then `all` per (month, area); rows netted to zero left out.
    func forEachMonthRow(_ body: (MonthRow) throws -> Void) rethrows {
        func monthKey(_ key: UInt64) -> UInt64 {
            Self.key(day: Self.firstOfMonth(Self.day(of: key)), rest: key & ((1 << (Self.districtBits + Self.categoryBits)) - 1))
        }
        var byMonth: [UInt64: (count: Int32, monthOnly: Int32)] = [:]
        for (key, n) in counts where n != 0 { byMonth[monthKey(key), default: (0, 0)].count += n }
        for (key, n) in monthOnly where n != 0 {
            byMonth[monthKey(key), default: (0, 0)].count += n
            byMonth[monthKey(key), default: (0, 0)].monthOnly += n
        }
        try forEachGroup(byMonth, zero: (0, 0), plus: { ($0.count + $1.count, $0.monthOnly + $1.monthOnly) }, isZero: { $0.count == 0 }) {
            try body(($0, $1, $2, $3.count, $3.monthOnly))
        }
    }

    /// Walks `values` by key (day, then area, then category): per (day, area) each category's
    /// value that is not zero, then `all` with their sum if that is not zero.
    private func forEachGroup<V>(_ values: [UInt64: V], zero: V, plus: (V, V) -> V, isZero: (V) -> Bool,
                                 _ body: (_ day: Int32, _ district: String, _ category: String, V) throws -> Void) rethrows {
        let keys = values.keys.sorted()
        let categoryMask: UInt64 = (1 << Self.categoryBits) - 1, districtMask: UInt64 = (1 << Self.districtBits) - 1
        var i = 0
        while i < keys.count {
            let group = keys[i] >> Self.categoryBits
            let day = Self.day(of: keys[i]), district = districtCodes[Int(group & districtMask)]
            var total = zero
            while i < keys.count, keys[i] >> Self.categoryBits == group {
                let value = values[keys[i]]!
                if !isZero(value) { try body(day, district, categories[Int(keys[i] & categoryMask)], value) }
                total = plus(total, value)
                i += 1
            }
            if !isZero(total) { try body(day, district, "all", total) }
        }
    }

    static let monthLayout = BinaryCopyLayout<MonthRow>(
        columns: ["month", "district_code", "category", "incident_count", "month_only_count"]) { row, w in
        try w.date("month", row.month)
        try w.text("district_code", row.district)
        try w.text("category", row.category)
        try w.int4("incident_count", row.count)
        try w.int4("month_only_count", row.monthOnly)
    }

    static let layout = BinaryCopyLayout<Row>(
        columns: ["local_date", "district_code", "category", "incident_count"]) { row, w in
        try w.date("local_date", row.day)
        try w.text("district_code", row.district)
        try w.text("category", row.category)
        try w.int4("incident_count", row.count)
    }
}
