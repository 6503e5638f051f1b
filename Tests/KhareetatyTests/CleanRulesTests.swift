import Foundation
import Testing
import TestSupport
@testable import KhareetatyCore
@testable import Readers

@Suite struct CleanRulesTests {
    let header = ["incident_id", "occurred_at", "category", "latitude", "longitude", "area", "description", "updated_at"]

    func stage(_ edit: (inout PipelineDefinition) -> Void = { _ in }) throws -> CleanStage {
        var pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
        edit(&pipeline)
        return try CleanStage(pipeline: pipeline, header: header, file: "t.csv", now: Date(timeIntervalSince1970: 1_800_000_000))
    }

    func clean(_ fields: [String], _ stage: CleanStage) -> Result<Incident, Reject> {
        stage.clean(RawRecord(fields: fields, sourceFile: "t.csv", sourceLine: 2))
    }

    func row(id: String = "A", at: String = "2026-11-20T10:00:00+03:00", category: String = "theft",
             lat: String = "29.3375", lon: String = "48.0716", area: String = "", description: String = "") -> [String] {
        [id, at, category, lat, lon, area, description, ""]
    }

    @Test func swappedCoordinatesAreRepairedAndFlagged() throws {
        let incident = try clean(row(lat: "48.0716", lon: "29.3375"), stage()).get()
        #expect(incident.lat == 29.3375 && incident.lon == 48.0716)
        #expect(incident.flags == [.swappedCoordinates])
    }

    @Test(arguments: ["2014-12-31T23:00:00+03:00", "2030-01-01T00:00:00+03:00"])
    func timestampsOutOfRangeAreRejected(at: String) throws {
        guard case .failure(let reject) = clean(row(at: at), try stage()) else { Issue.record("accepted \(at)"); return }
        #expect(reject.reason == .timestampOutOfRange)
    }

    @Test(arguments: [
        ("20/11/2026 09:30", "2026-11-20T06:30:00Z"),
        ("20/11/2026 09:30:15", "2026-11-20T06:30:15Z"),
        ("1763620200", "2025-11-20T06:30:00Z"),
        ("2026-11-20 09:30", "2026-11-20T06:30:00Z"),
    ])
    func configuredTimestampFormats(text: String, utc: String) throws {
        let incident = try clean(row(at: text), stage()).get()
        #expect(incident.occurredAt == Int64(ISO8601DateFormatter().date(from: utc)!.timeIntervalSince1970))
    }

    @Test func daylightSavingZonesAreRight() {
        let la = TimestampParser(timeZone: TimeZone(identifier: "America/Los_Angeles")!, formats: [.iso8601])
        // Summer (PDT, −7) and winter (PST, −8) local midnights.
        #expect(la.parse("2012-07-02") == Int64(ISO8601DateFormatter().date(from: "2012-07-02T07:00:00Z")!.timeIntervalSince1970))
        #expect(la.parse("2012-12-02") == Int64(ISO8601DateFormatter().date(from: "2012-12-02T08:00:00Z")!.timeIntervalSince1970))
    }

    @Test(arguments: [
        ("سرقة", "theft"), ("سرقه", "theft"), ("سَرِقَة", "theft"), ("  THEFT ", "theft"), ("Traffic-Accident", "traffic_accident"),
        ("traffic_accident", "traffic_accident"), ("DRUG/NARCOTIC", "drugs"), ("حادث  مروري", "traffic_accident"), ("إعتداء", "assault"),
    ])
    func categoriesMapThroughSynonyms(raw: String, code: String) throws {
        #expect(try clean(row(category: raw), stage()).get().category == code)
    }

    @Test func unknownCategoriesFollowThePolicy() throws {
        let other = try clean(row(category: "juggling"), stage()).get()
        #expect(other.category == "other")
        #expect(other.flags == [.unknownCategory])
        let strict = try stage { $0.clean.unknownCategory = .reject }
        guard case .failure(let reject) = clean(row(category: "juggling"), strict) else { Issue.record("accepted"); return }
        #expect(reject.reason == .unknownCategory)
    }

    @Test func conflictingSynonymsAreAConfigError() throws {
        let path = try temporaryFile("c.yaml", contents: "theft: [stealing]\nrobbery: [Stealing]\n")
        #expect(throws: ConfigError.self) { try CategoryMap.load(path: path) }
    }

    @Test func textIsTrimmedNormalisedAndFreeOfControls() throws {
        let decomposed = "Cafe\u{0301}"  // e + combining acute
        let incident = try clean(row(area: "  \(decomposed)  ", description: "line\none\ttab\u{0}nul\u{85}"), stage()).get()
        #expect(incident.areaName == "Caf\u{E9}")
        #expect(incident.areaName?.unicodeScalars.count == 4)
        #expect(incident.description == "line one tab nul")
    }

    @Test func invalidEncodingIsRejected() throws {
        let result = try stage().clean(RawRecord(fields: row(), sourceFile: "t.csv", sourceLine: 9, encoding: .invalid))
        guard case .failure(let reject) = result else { Issue.record("accepted"); return }
        #expect(reject.reason == .invalidEncoding)
    }

    @Test func idsCanBeAHashOfColumns() throws {
        let header = ["when", "what", "where", "lat", "lon"]
        let yaml = """
            name: hashed
            inputs: [x.csv]
            id_hash: [when, what, where]
            columns: {occurred_at: when, category: what, area_name: where, lat: lat, lon: lon}
            boundaries: {districts: b.geojson}

            """
        let pipeline = try PipelineDefinition.load(path: try temporaryFile("p.yaml", contents: yaml))
        let stage = try CleanStage(pipeline: pipeline, header: header, file: "x.csv")
        func id(_ fields: [String]) throws -> String {
            try stage.clean(RawRecord(fields: fields, sourceFile: "x.csv", sourceLine: 2)).get().incidentID
        }
        let a = try id(["2026-11-20T10:00:00Z", "theft", "Salmiya", "29.33", "48.07"])
        #expect(a == (try id(["2026-11-20T10:00:00Z", " theft ", "Salmiya", "29.34", "48.08"])))  // coordinates are not in the hash
        #expect(a != (try id(["2026-11-20T10:00:00Z", "theft", "Hawalli", "29.33", "48.07"])))
        #expect(a.count == 33 && a.hasPrefix("h"))
    }
}

@Suite struct ReservedCategoryTests {
    /// Without a mapping file every category is its own code: one spelled "All" must not collide
    /// with the daily totals' `all`.
    @Test func aCategoryNamedAllIsNotTheTotal() throws {
        var pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
        pipeline.clean.categories = .identity
        let header = ["incident_id", "occurred_at", "category", "latitude", "longitude", "area", "description", "updated_at"]
        let stage = try CleanStage(pipeline: pipeline, header: header, file: "t.csv", now: Date(timeIntervalSince1970: 1_800_000_000))
        let incident = try stage.clean(RawRecord(fields: ["A", "2026-11-20T10:00:00+03:00", "All", "29.3375", "48.0716", "", "", ""],
                                                 sourceFile: "t.csv", sourceLine: 2)).get()
        #expect(incident.category == "other")
        #expect(incident.flags == [.unknownCategory])
        let file = try temporaryFile("c.yaml", contents: "all: [everything]\n")
        #expect(throws: ConfigError.self) { try CategoryMap.load(path: file) }
    }

    @Test(arguments: [("2026-11-24", true), ("2026-02-29", false), ("2024-02-29", true), ("2026-13-01", false), ("26-11-24", false), ("2026-1-24", false)])
    func datesAreCalendarDates(text: String, valid: Bool) {
        #expect(PipelineRunner.isValidDate(text) == valid)
    }
}
