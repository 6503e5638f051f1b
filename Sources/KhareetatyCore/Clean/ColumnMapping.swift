import Foundation

/// How the clean stage finds a record's fields in an export: for each canonical field the header
/// names it may go by (a force renames columns between years: `DateOccur` → `DateOccured`; the
/// first one present in a file's header wins), and how a record's incident id is made.
public struct ColumnMapping: Sendable, Equatable {
    /// Canonical field → the header names it may have, in order of preference.
    public var fields: [CanonicalField: [String]]
    /// Header names of a time-of-day (or hour) column whose value joins `occurred_at`'s date
    /// (`columns.occurred_at: {date: …, time: …}`); empty when `occurred_at` holds the whole instant.
    public var occurredTime: [String] = []
    public var identity: IdentityRule = .column

    public init(fields: [CanonicalField: [String]], occurredTime: [String] = [], identity: IdentityRule = .column) {
        self.fields = fields
        self.occurredTime = occurredTime
        self.identity = identity
    }

    /// The canonical names, for XML feeds (their elements are named so).
    static var canonical: ColumnMapping {
        ColumnMapping(fields: Dictionary(uniqueKeysWithValues: CanonicalField.allCases.map { ($0, [$0.rawValue]) }))
    }
}

/// How a record's incident id is made; duplicates are records with one id.
public enum IdentityRule: Sendable, Equatable {
    /// `columns.incident_id`: the export's id; a blank one is rejected (`missing_id`).
    case column
    /// `id_hash: [columns]`: a SHA-256 of these columns' values (exports without an id).
    case hash([String])
    /// `id_hash_fallback: [columns]`: the id column where it has a value, else the hash (police.uk
    /// leaves `Crime ID` blank for anti-social behaviour). A hashed id starts with `h`.
    case columnElseHash([String])
    /// `dedup: none`: every record is its own incident, its id the file's name and the record's
    /// line (`file.csv#12`). For exports that repeat identical rows for distinct reports
    /// (police.uk snaps reports to shared points); a re-sent file replaces its own rows.
    case record

    /// The key in a pipeline file.
    var key: String {
        switch self {
        case .column: "columns.incident_id"
        case .hash: "id_hash"
        case .columnElseHash: "id_hash_fallback"
        case .record: "dedup: none"
        }
    }

    var hashColumns: [String] {
        switch self {
        case .hash(let columns), .columnElseHash(let columns): columns
        case .column, .record: []
        }
    }
}
