/// The fields of an incident a pipeline maps export columns to (`columns:` in a pipeline file).
public enum CanonicalField: String, CaseIterable, Sendable {
    case incidentID = "incident_id"
    case occurredAt = "occurred_at"
    case category
    case lat
    case lon
    case areaName = "area_name"
    /// The export's own area code (police.uk's LSOA code): see `GeocodeMethod.areaCode`.
    case areaCode = "area_code"
    case description
    case updatedAt = "updated_at"

    var required: Bool { [.incidentID, .occurredAt, .category].contains(self) }
}

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
    public var areaCode: String?
    public var description: String?
    public var updatedAt: Int64?
    public var sourceFile: String
    public var sourceLine: Int

    /// Whether the export gave the day (`day`) or only the month (`month`: `localDay` is the
    /// month's first day, and the incident stays out of every day-level output).
    public var precision: TimePrecision = .day

    /// Repairs and substitutions the clean stage made (stored, and counted in the summary).
    public var flags: [IncidentFlag] = []
}

/// Where the geocode stage placed an incident.
public struct Placement: Sendable {
    public var districtCode: String?
    public var governorateCode: String?
    public var geocodeMethod: GeocodeMethod = .none
    /// Why an incident is unassigned, or how far a `nearest` one was snapped.
    public var geocodeDetail: String?
    /// The district's index in the run's district layer (with `districtCode`), so the loader can
    /// tell areas apart without hashing their codes.
    public var districtIndex: Int?

    public init(districtCode: String? = nil, governorateCode: String? = nil, geocodeMethod: GeocodeMethod = .none, geocodeDetail: String? = nil,
                districtIndex: Int? = nil) {
        self.districtCode = districtCode
        self.governorateCode = governorateCode
        self.geocodeMethod = geocodeMethod
        self.geocodeDetail = geocodeDetail
        self.districtIndex = districtIndex
    }
}

/// An incident with its placement: what the geocode stage gives and the load stage takes.
public struct PlacedIncident: Sendable {
    public var incident: Incident
    public var placement: Placement

    public init(incident: Incident, placement: Placement) {
        self.incident = incident
        self.placement = placement
    }

}

/// How an incident was placed in its district.
public enum GeocodeMethod: String, Sendable, CaseIterable {
    /// The point lies inside the district's polygon.
    case point
    /// The point lies inside no polygon, within the snap distance of this district.
    case nearest
    /// No usable point (none, or inside no area): the export's area code is this district's.
    case areaCode = "area_code"
    /// No usable point; the area name matched this district (gazetteer).
    case name
    /// Not placed: see `geocodeDetail` for the reason. Kept and counted, never dropped.
    case none
}

/// Something the clean stage changed in a record it kept.
public enum IncidentFlag: String, Sendable, CaseIterable {
    /// lat and lon were swapped in the export; the swapped pair lies inside the bounding box.
    case swappedCoordinates = "swapped_coordinates"
    /// The category is not in the mapping file and was mapped to `other`.
    case unknownCategory = "unknown_category"
    /// Some field was not UTF-8 and was transcoded from the pipeline's legacy encoding.
    case transcoded
    /// The time column (`columns.occurred_at.time`) was blank: the incident is at local midnight.
    case noTimeOfDay = "no_time_of_day"
    /// The export's area code names another area than the point lies in (the point's answer is
    /// kept; the code is stored beside it).
    case areaCodeDisagrees = "area_code_disagrees"
}

/// Why a record was not loaded. Codes are stable: dashboards and alerts key on them.
public enum RejectReason: String, Sendable, CaseIterable {
    case malformedRecord = "malformed_record"
    case wrongFieldCount = "wrong_field_count"
    case invalidEncoding = "invalid_encoding"
    case missingID = "missing_id"
    case idTooLong = "id_too_long"
    case badTimestamp = "bad_timestamp"
    case timestampOutOfRange = "timestamp_out_of_range"
    case missingCategory = "missing_category"
    case unknownCategory = "unknown_category"
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
