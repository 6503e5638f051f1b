/// The canonical incident record every later stage works on.
public struct Incident: Sendable {
    public var incidentID: String
    /// Seconds since the Unix epoch (UTC).
    public var occurredAt: Int64
    /// Days since 1970-01-01 of the local calendar date in the pipeline's time zone.
    public var localDay: Int32
    public var category: String
    public var lat: Double?
    public var lon: Double?
    public var areaName: String?
    public var description: String?
    public var updatedAt: Int64?
    public var sourceFile: String
    public var sourceLine: Int

    // Filled by the geocode stage.
    public var districtCode: String?
    public var governorateCode: String?
    public var geocodeMethod: GeocodeMethod = .unassigned
}

public enum GeocodeMethod: String, Sendable {
    /// The point lies inside the district's polygon.
    case polygon
    /// No usable point, or a point inside no district.
    case unassigned
}

/// Why a record was not loaded. Codes are stable: dashboards and alerts key on them.
public enum RejectReason: String, Sendable, CaseIterable {
    case wrongFieldCount = "wrong_field_count"
    case missingID = "missing_id"
    case badTimestamp = "bad_timestamp"
    case missingCategory = "missing_category"
    case badCoordinates = "bad_coordinates"
}

/// A record that was not loaded, with its reason and the raw text (capped), for `incident_rejects`.
public struct Reject: Sendable {
    public var sourceFile: String
    public var sourceLine: Int
    public var reason: RejectReason
    public var message: String
    public var raw: String
}
