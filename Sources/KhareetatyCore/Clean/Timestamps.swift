import Foundation

/// Civil-date arithmetic without Calendar (hot path): Howard Hinnant's days_from_civil.
enum CivilDate {
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// (year, month, day) for days since 1970-01-01.
    static func civil(days z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func isoDate(days: Int) -> String {
        let (y, m, d) = civil(days: days)
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    static func isoTimestamp(epochSeconds s: Int64) -> String {
        let days = Int((s >= 0 ? s : s - 86_399) / 86_400)
        let secs = Int(s - Int64(days) * 86_400)
        return isoDate(days: days) + String(format: " %02d:%02d:%02d+00", secs / 3600, secs / 60 % 60, secs % 60)
    }
}

/// Parses the timestamp shapes police exports use:
/// `YYYY-MM-DD[T| ]HH:MM[:SS[.fff]]` with an optional `Z` or `±HH[:MM]` offset, or a bare date.
/// A timestamp without an offset is local time in the pipeline's zone.
struct TimestampParser {
    let timeZone: TimeZone

    /// Epoch seconds (UTC), or nil when the text is not a valid timestamp.
    func parse(_ text: Substring) -> Int64? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var value = 0
            for i in at..<(at + count) {
                let c = b[i]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        guard let year = digits(0, 4), b.count >= 10, b[4] == 45, let month = digits(5, 2), b[7] == 45, let day = digits(8, 2),
              (1...12).contains(month), day >= 1, day <= daysInMonth(year, month) else { return nil }
        var hour = 0, minute = 0, second = 0
        var i = 10
        if i < b.count, b[i] == 84 || b[i] == 32 {  // 'T' or ' '
            guard let h = digits(i + 1, 2), b.count > i + 3, b[i + 3] == 58, let m = digits(i + 4, 2) else { return nil }
            hour = h; minute = m; i += 6
            if i < b.count, b[i] == 58 {
                guard let s = digits(i + 1, 2) else { return nil }
                second = s; i += 3
                if i < b.count, b[i] == 46 {  // fractional seconds: accepted, truncated
                    i += 1
                    while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
                }
            }
            guard hour <= 23, minute <= 59, second <= 60 else { return nil }
        }
        let days = CivilDate.days(year: year, month: month, day: day)
        let wall = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59))
        if i == b.count {
            // Local wall time: the zone's offset at (approximately) that instant.
            let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(wall)))
            return wall - Int64(offset)
        }
        if b[i] == 90, i + 1 == b.count { return wall }  // 'Z'
        guard b[i] == 43 || b[i] == 45, let oh = digits(i + 1, 2) else { return nil }
        var om = 0
        var j = i + 3
        if j < b.count, b[j] == 58 { j += 1 }
        if j < b.count {
            guard let m = digits(j, 2), j + 2 == b.count else { return nil }
            om = m
        }
        guard oh <= 14, om <= 59 else { return nil }
        let offset = Int64(oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
        return wall - offset
    }

    /// Local calendar day (days since epoch) of an instant in the pipeline's zone.
    func localDay(of epochSeconds: Int64) -> Int32 {
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(epochSeconds))))
        let local = epochSeconds + offset
        return Int32((local >= 0 ? local : local - 86_399) / 86_400)
    }

    private func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
