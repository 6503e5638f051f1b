import Foundation
import Readers

/// The clean rules of a pipeline (its `clean:` section), with Kuwait's defaults.
public struct CleanRules: Sendable {
    public enum UnknownCategoryPolicy: String, Sendable, CaseIterable {
        /// Map to the canonical code `other`, flag the incident and count it.
        case other
        /// Reject the record with reason `unknown_category`.
        case reject
    }

    public var timestampFormats: [TimestampFormat] = [.iso8601]
    /// Local date before which an incident is out of range (the pipeline's zone).
    public var earliestDay = CivilDate.days(year: 2000, month: 1, day: 1)
    /// How far past the run's start an incident may lie (clock skew, time zone slips).
    public var futureToleranceSeconds: Int64 = 24 * 3600
    /// Kuwait with its islands (Bubiyan, Failaka, Kubbar, Qaruh, Umm al-Maradim).
    public var latRange: ClosedRange<Double> = 28.5...30.15
    public var lonRange: ClosedRange<Double> = 46.5...48.7
    /// The CRS of the export's coordinates (`coordinates.crs`): `lon` is then the x (easting)
    /// column and `lat` the y (northing), taken to WGS 84 by PROJ before the bounding box. nil:
    /// WGS 84 degrees.
    public var coordinatesCRS: String?
    public var categories = CategoryMap.identity
    public var unknownCategory = UnknownCategoryPolicy.other
    /// A run whose rejected share exceeds this fails with exit code 65 (after recording rejects).
    public var maxRejectRatio = 0.05

    public init() {}
}

/// How exactly a record's timestamp says when it happened. A month-only incident (police.uk's
/// `2016-07`) counts in monthly outputs and the accounting, never in day-level counts, 7/28-day
/// windows, weekly trends or hot spots: placing it on the 1st would invent a spike.
public enum TimePrecision: String, Sendable, CaseIterable, Codable {
    /// The day is known (with or without a time of day).
    case day
    /// Only the month is known; stored on the month's first day.
    case month
}

/// One accepted timestamp shape.
public enum TimestampFormat: Sendable, Equatable {
    /// `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH[:MM]]`; without an offset, local time.
    case iso8601
    case epochSeconds
    case epochMillis
    /// A C `strptime` format (`%Y/%m/%d %H:%M:%S%z`, `%m/%d/%Y %H:%M`, `%Y-%m`): fields may be
    /// unpadded, any other character is a literal, `%z` takes `Z`, `±hh`, `±hhmm` or `±hh:mm`;
    /// without `%z`, local time. A format without a day (`%d`, `%e`) is month precision.
    /// Seconds are optional when the format ends in `:%S`.
    case strptime(String)

    /// The directives a format may use: dates, times, offsets and literal `%`. Weekday names are
    /// read but not checked against the date (as strptime does).
    static let directives: Set<Character> = ["Y", "y", "m", "b", "B", "h", "d", "e", "H", "I", "p", "M", "S",
                                             "z", "T", "R", "D", "F", "a", "A", "n", "t", "%"]

    public init?(_ text: String) {
        switch text {
        case "iso8601": self = .iso8601
        case "epoch_seconds": self = .epochSeconds
        case "epoch_millis": self = .epochMillis
        default:
            let format = text.contains("%") ? text : Self.translate(legacy: text)
            guard let format, Self.isValid(strptime: format) else { return nil }
            self = .strptime(format)
        }
    }

    /// Whether the timestamps this format reads know their day or only their month.
    public var precision: TimePrecision {
        guard case .strptime(let format) = self else { return .day }
        let used = Self.used(in: format)
        return used.isDisjoint(with: StrptimeFormat.dayDirectives) ? .month : .day
    }

    /// The name a pipeline file gives the format.
    public var name: String {
        switch self {
        case .iso8601: "iso8601"
        case .epochSeconds: "epoch_seconds"
        case .epochMillis: "epoch_millis"
        case .strptime(let format): format
        }
    }

    static func used(in format: String) -> Set<Character> { Set(StrptimeFormat.directives(in: format)) }

    /// A year and a month at least, no unknown directive, no time without a day, at most one of
    /// each field.
    static func isValid(strptime format: String) -> Bool {
        var percent = false, counts: [Character: Int] = [:]
        for c in format {
            if percent {
                guard directives.contains(c) else { return false }
                counts[c, default: 0] += 1
                percent = false
            } else if c == "%" { percent = true }
        }
        guard !percent, counts.allSatisfy({ $0.key == "%" || $0.value == 1 }) else { return false }
        let used = Set(counts.keys)
        let hasYear = !used.isDisjoint(with: ["Y", "y", "D", "F"])
        let hasMonth = !used.isDisjoint(with: ["m", "b", "B", "h", "D", "F"])
        let hasDay = !used.isDisjoint(with: StrptimeFormat.dayDirectives)
        let hasTime = !used.isDisjoint(with: ["H", "I", "M", "S", "T", "R"])
        return hasYear && hasMonth && (hasDay || !hasTime)
    }

    /// The older `dd/MM/yyyy HH:mm` patterns as strptime formats (each letter run its usual width).
    static func translate(legacy pattern: String) -> String? {
        guard pattern.contains("yyyy"), pattern.contains("MM"), pattern.contains("dd") else { return nil }
        let allowed = CharacterSet(charactersIn: "yMdHms /-.:T,")
        guard pattern.unicodeScalars.allSatisfy({ allowed.contains($0) }) else { return nil }
        // Each field is one run of its letter, of its usual width: `yyyy`, `MM`, `dd`, `HH`, `mm`, `ss`.
        var runs: [(Character, Int)] = []
        for c in pattern where "yMdHms".contains(c) {
            if let last = runs.last, last.0 == c { runs[runs.count - 1].1 += 1 } else { runs.append((c, 1)) }
        }
        for c in "yMdHms" {
            let widths = runs.filter { $0.0 == c }.map(\.1)
            guard widths.count <= 1, widths.allSatisfy({ $0 == (c == "y" ? 4 : 2) }) else { return nil }
        }
        var format = pattern
        for (run, directive) in [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")] {
            format = format.replacingOccurrences(of: run, with: directive)
        }
        return format
    }
}
