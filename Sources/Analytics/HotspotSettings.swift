import Foundation

/// How hot spots are found (docs/ANALYTICS.md; the pipeline's `aggregate.hotspot_*` keys).
public struct HotspotSettings: Sendable, Equatable {
    /// EPSG code of the projected CRS of the grid (UTM, 326zz or 327zz); nil: the UTM zone of
    /// the boundary layer's centre.
    public var crsEPSG: Int?
    /// A fixed cell size in metres; nil: chosen from the incidents' spacing within [cellMin, cellMax].
    public var cellMetres: Double?
    public var cellMin = 100.0
    public var cellMax = 300.0
    /// The most cells a data-chosen grid may have over the study area (bounds memory and time; a
    /// larger cell wins over `cellMax` when the study area needs it).
    public var maxCells = 250_000
    /// Below this many incidents in a window there is no analysis, only `insufficient_data`.
    public var minIncidents = 30
    /// The study area: districts with an incident in the `studyDays` days up to the as-of date,
    /// or every district of the layer.
    public var studyArea = StudyArea.activeDistricts
    public var studyDays = 365
    /// Exact test under complete spatial randomness, or esda's conditional permutation.
    public var inference = Inference.csrExact
    public var permutations = 9_999
    public var seed: UInt64 = 20_261_202
    /// Weekly steps that must hold an analysable space-time window before an emerging pattern is named.
    public var emergingMinSteps = 10

    public enum StudyArea: String, Sendable, CaseIterable { case activeDistricts = "active_districts", allDistricts = "all_districts" }
    public enum Inference: String, Sendable, CaseIterable { case csrExact = "csr_exact", permutation }

    public init() {}
}
