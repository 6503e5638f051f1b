import Foundation

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
    public var categories = CategoryMap.identity
    public var unknownCategory = UnknownCategoryPolicy.other
    /// A run whose rejected share exceeds this fails with exit code 65 (after recording rejects).
    public var maxRejectRatio = 0.05

    public init() {}
}

/// One accepted timestamp shape.
public enum TimestampFormat: Sendable, Equatable {
    /// `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH[:MM]]`; without an offset, local time.
    case iso8601
    case epochSeconds
    case epochMillis
    /// A fixed pattern of `yyyy MM dd HH mm ss` and literal characters, local time, e.g. `dd/MM/yyyy HH:mm`.
    case pattern(String)

    public init?(_ text: String) {
        switch text {
        case "iso8601": self = .iso8601
        case "epoch_seconds": self = .epochSeconds
        case "epoch_millis": self = .epochMillis
        default:
            guard text.contains("yyyy"), text.contains("MM"), text.contains("dd") else { return nil }
            let allowed = CharacterSet(charactersIn: "yMdHms /-.:T,")
            guard text.unicodeScalars.allSatisfy({ allowed.contains($0) }) else { return nil }
            // Each field is one run of its letter, of its usual width: `yyyy`, `MM`, `dd`, `HH`, `mm`, `ss`.
            var runs: [(Character, Int)] = []
            for c in text where "yMdHms".contains(c) {
                if let last = runs.last, last.0 == c { runs[runs.count - 1].1 += 1 } else { runs.append((c, 1)) }
            }
            for c in "yMdHms" {
                let widths = runs.filter { $0.0 == c }.map(\.1)
                guard widths.count <= 1, widths.allSatisfy({ $0 == (c == "y" ? 4 : 2) }) else { return nil }
            }
            self = .pattern(text)
        }
    }
}
