import Foundation
import Postgres
import Readers
import Testing
import TestSupport
@testable import KhareetatyCore

/// Exports from other forces, loaded with a pipeline file alone: strptime formats, month-only
/// dates, a date and a time in two columns, column aliases and the id rules. The replay cases
/// fixtures/replay/{police-uk,split-date-hour,renamed-columns} load whole files of each shape.
@Suite struct AnyExportTests {
    static let utc = TimestampParser(timeZone: TimeZone(identifier: "UTC")!, formats: [
        TimestampFormat("%Y/%m/%d %H:%M:%S%z")!, TimestampFormat("%m/%d/%Y %H:%M:%S")!, TimestampFormat("%Y-%m")!,
    ])

    func epoch(_ iso: String) -> Int64 {
        Int64(ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970)
    }

    @Test func offsetsUnpaddedFieldsAndOptionalSecondsParse() throws {
        let cases: [(String, String, TimePrecision)] = [
            ("2014/03/02 05:00:00+00", "2014-03-02T05:00:00Z", .day),
            ("2014/03/02 05:00:00+0530", "2014-03-01T23:30:00Z", .day),
            ("2014/03/02 05:00:00-05:30", "2014-03-02T10:30:00Z", .day),
            ("2014/03/02 05:00:00Z", "2014-03-02T05:00:00Z", .day),
            ("1/1/2001 0:01", "2001-01-01T00:01:00Z", .day),
            ("12/31/2001 23:59:58", "2001-12-31T23:59:58Z", .day),
            ("2016-07", "2016-07-01T00:00:00Z", .month),
            ("2016-7", "2016-07-01T00:00:00Z", .month),
        ]
        for (text, iso, precision) in cases {
            let parsed = try #require(Self.utc.parseWithPrecision(Substring(text)), "\(text)")
            #expect(parsed.seconds == epoch(iso), "\(text)")
            #expect(parsed.precision == precision, "\(text)")
        }
    }

    @Test(arguments: ["2/30/2001 10:00", "13/01/2001 10:00", "1/1/2001 24:00", "2016-13", "2014/03/02 05:00:00+00 trailing", "1760821746", ""])
    func impossibleOrForeignTextsDoNotParse(text: String) {
        #expect(Self.utc.parseWithPrecision(Substring(text)) == nil)
    }

    /// The C library's parser against Python's `datetime.strptime`: random instants written in
    /// several formats (unpadded ones too), read by both.
    @Test func randomTimestampsAgreeWithPythonsStrptime() throws {
        let script = """
            import datetime, json, random
            rng = random.Random(7)
            out = []
            for i in range(600):
                t = datetime.datetime(1990, 1, 1) + datetime.timedelta(seconds=rng.randrange(0, 40 * 365 * 86400))
                off = rng.choice([0, 3 * 3600, -5 * 3600 - 1800, 5 * 3600 + 1800])
                sign, a = ('+' if off >= 0 else '-'), abs(off)
                tz = datetime.timezone(datetime.timedelta(seconds=off))
                shapes = [
                    ('%Y/%m/%d %H:%M:%S%z', t.strftime('%Y/%m/%d %H:%M:%S') + f'{sign}{a // 3600:02d}{a % 3600 // 60:02d}', True),
                    ('%Y/%m/%d %H:%M:%S%z', t.strftime('%Y/%m/%d %H:%M:%S') + f'{sign}{a // 3600:02d}:{a % 3600 // 60:02d}', True),
                    ('%m/%d/%Y %H:%M', f'{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}', False),
                    ('%d.%m.%Y %H:%M:%S', t.strftime('%d.%m.%Y %H:%M:%S'), False),
                    ('%d %b %Y %I:%M %p', t.strftime('%d %b %Y %I:%M %p'), False),
                ]
                fmt, text, aware = shapes[i % len(shapes)]
                parsed = datetime.datetime.strptime(text, fmt)
                assert (parsed.tzinfo is not None) == aware and (not aware or parsed.utcoffset() == tz.utcoffset(None))
                seconds = int((parsed if aware else parsed.replace(tzinfo=datetime.timezone.utc)).timestamp())
                out.append([fmt, text, seconds])
            print(json.dumps(out))
            """
        let output = try shell("/usr/bin/python3", ["-c", script])
        let cases = try #require(try JSONSerialization.jsonObject(with: output) as? [[Any]])
        #expect(cases.count == 600)
        for c in cases {
            let (format, text, seconds) = (c[0] as! String, c[1] as! String, (c[2] as! NSNumber).int64Value)
            let parser = TimestampParser(timeZone: TimeZone(identifier: "UTC")!, formats: [try #require(TimestampFormat(format))])
            #expect(parser.parse(Substring(text)) == seconds, "\(format): \(text)")
        }
    }

    @Test func timesOfDayFromTheirOwnColumn() {
        let cases: [(String, Int?)] = [("0", 0), ("5", 5 * 3600), ("13", 13 * 3600), ("0530", 5 * 3600 + 1800), ("1430", 14 * 3600 + 1800),
                                       ("930", 9 * 3600 + 1800), ("9:05", 9 * 3600 + 300), ("23:59:59", 86_399), ("12 AM", 0),
                                       ("12:30 pm", 12 * 3600 + 1800), ("1 PM", 13 * 3600), ("24", nil), ("25", nil), ("1260", nil),
                                       ("13 PM", nil), ("9:5", nil), ("noon", nil), ("-1", nil), ("", nil)]
        for (text, seconds) in cases {
            #expect(TimestampParser.secondsOfDay(Substring(text)) == seconds, "\(text)")
        }
    }

    @Test(arguments: [
        ("%Y-%m-%d %H:%M", true), ("%Y-%m", true), ("%b %Y", true), ("%F %T", true), ("%d/%m/%Y", true),
        ("%Y %H:%M", false), ("%m/%d", false), ("%Y-%m %H:%M", false), ("%Y-%m-%d %Q", false), ("%Y-%m-%d %", false),
        ("%Y-%m-%d-%d", false), ("dd/MM/yyyy HH:mm", true), ("d/MM/yyyy", false), ("yyyy-MM", false),
    ])
    func formatsAreCheckedWhenThePipelineLoads(format: String, valid: Bool) {
        #expect((TimestampFormat(format) != nil) == valid, "\(format)")
    }

    @Test func olderPatternsReadAsTheStrptimeFormatsTheyWere() {
        #expect(TimestampFormat("dd/MM/yyyy HH:mm") == .strptime("%d/%m/%Y %H:%M"))
        #expect(TimestampFormat("yyyy-MM-ddTHH:mm:ss") == .strptime("%Y-%m-%dT%H:%M:%S"))
        #expect(TimestampFormat("%Y-%m")?.precision == .month && TimestampFormat("%Y-%m-%d")?.precision == .day)
    }

    // MARK: Pipeline keys

    func pipeline(_ body: String) throws -> PipelineDefinition {
        let path = try temporaryFile("pipeline.yaml", contents: """
            name: t
            \(body)
            boundaries:
              districts: \(repoPath("fixtures/boundaries/synthetic/grid-2x2.geojson"))
            """)
        return try PipelineDefinition.load(path: path)
    }

    func configError(_ body: String) throws -> ConfigError {
        do {
            _ = try pipeline(body)
        } catch let error as ConfigError {
            return error
        }
        Issue.record("accepted: \(body)")
        throw TestSetupError(description: "no error")
    }

    @Test func columnsTakeAliasesAndADateWithATime() throws {
        let p = try pipeline("""
            columns:
              incident_id: [Complaint, Complaint No]
              occurred_at: {date: [DateOccur, DateOccured], time: HourOccur}
              category: Crime
            """)
        #expect(p.mapping.fields[.incidentID] == ["Complaint", "Complaint No"])
        #expect(p.mapping.fields[.occurredAt] == ["DateOccur", "DateOccured"] && p.mapping.occurredTime == ["HourOccur"])
        #expect(p.mapping.fields[.category] == ["Crime"] && p.mapping.identity == .column)
    }

    @Test func idRulesAreExclusiveAndNamed() throws {
        #expect(try pipeline("dedup: none\ncolumns: {occurred_at: d, category: c}").mapping.identity == .record)
        #expect(try pipeline("id_hash: [a, b]\ncolumns: {occurred_at: d, category: c}").mapping.identity == .hash(["a", "b"]))
        #expect(try pipeline("id_hash_fallback: [a]\ncolumns: {incident_id: i, occurred_at: d, category: c}").mapping.identity == .columnElseHash(["a"]))
        #expect(try configError("dedup: none\ncolumns: {incident_id: i, occurred_at: d, category: c}").key == "dedup")
        #expect(try configError("dedup: sometimes\ncolumns: {occurred_at: d, category: c}").key == "dedup")
        #expect(try configError("id_hash_fallback: [a]\ncolumns: {occurred_at: d, category: c}").key == "id_hash_fallback")
        #expect(try configError("id_hash: [a]\ncolumns: {incident_id: i, occurred_at: d, category: c}").key == "id_hash")
        #expect(try configError("columns: {incident_id: [i, i], occurred_at: d, category: c}").key == "columns.incident_id")
        #expect(try configError("columns: {incident_id: i, occurred_at: {date: d}, category: c}").key == "columns.occurred_at.time")
        let badFormat = try configError("clean: {timestamp_formats: [\"%Y-%m-%d %Q\"]}")
        #expect(badFormat.key == "clean.timestamp_formats" && badFormat.description.contains("strptime"))
    }

    // MARK: The clean stage

    func clean(_ mapping: ColumnMapping, header: [String], _ rows: [[String]], formats: [TimestampFormat] = [.iso8601]) throws
        -> (stage: CleanStage, output: IncidentBatch) {
        var rules = CleanRules()
        rules.timestampFormats = formats
        rules.latRange = -90...90
        rules.lonRange = -180...180
        var stage = try CleanStage(mapping: mapping, rules: rules, timeZone: TimeZone(identifier: "UTC")!, header: header,
                                   file: "/data/x.csv", rulesSource: "test")
        let records = rows.enumerated().map { RawRecord(fields: $1, sourceFile: "/data/x.csv", sourceLine: $0 + 2) }
        return (stage, try stage.process(records))
    }

    @Test func theFirstNamePresentInTheHeaderWinsAndIsReported() throws {
        let mapping = ColumnMapping(fields: [.incidentID: ["Id"], .occurredAt: ["DateOccur", "DateOccured"], .category: ["Crime", "Offense"]])
        let (stage, output) = try clean(mapping, header: ["Offense", "DateOccured", "Id", "Crime"], [["x", "2020-01-02", "1", "theft"]])
        #expect(stage.chosenColumns == ["incident_id": "Id", "occurred_at": "DateOccured", "category": "Crime"])
        #expect(output.incidents.first?.category == "theft")
        do {
            _ = try clean(mapping, header: ["Id", "When", "Crime"], [])
            Issue.record("a header with none of the names was accepted")
        } catch let error as InputError {
            #expect(error.description.contains("\"DateOccur\" or \"DateOccured\""))
        }
    }

    @Test func idRulesMakeTheIdsTheyPromise() throws {
        let header = ["id", "when", "what"]
        let rows = [["A-1", "2020-01-02", "theft"], ["", "2020-01-02", "theft"], ["", "2020-01-02", "theft"], ["", "2020-01-03", "theft"]]
        let column = try clean(ColumnMapping(fields: [.incidentID: ["id"], .occurredAt: ["when"], .category: ["what"]]), header: header, rows).output
        #expect(column.incidents.map(\.incidentID) == ["A-1"] && column.rejects.map(\.reason) == [.missingID, .missingID, .missingID])

        let fallback = try clean(ColumnMapping(fields: [.incidentID: ["id"], .occurredAt: ["when"], .category: ["what"]],
                                               identity: .columnElseHash(["when", "what"])), header: header, rows).output
        let ids = fallback.incidents.map(\.incidentID)
        #expect(ids.count == 4 && ids[0] == "A-1" && ids[1] == ids[2] && ids[1] != ids[3] && ids[1].hasPrefix("h") && ids[1].count == 33)

        let record = try clean(ColumnMapping(fields: [.occurredAt: ["when"], .category: ["what"]], identity: .record), header: header, rows).output
        #expect(record.incidents.map(\.incidentID) == ["x.csv#2", "x.csv#3", "x.csv#4", "x.csv#5"])
    }

    @Test func aDateAndATimeColumnMakeOneInstant() throws {
        let mapping = ColumnMapping(fields: [.incidentID: ["id"], .occurredAt: ["date"], .category: ["what"]], occurredTime: ["hour"])
        let (_, output) = try clean(mapping, header: ["id", "date", "hour", "what"], [
            ["1", "2020-01-02", "13", "theft"], ["2", "2020-01-02 00:00:00", "1430", "theft"], ["3", "2020-01-02", "", "theft"],
            ["4", "2020-01-02", "25", "theft"], ["5", "2020-02-30", "1", "theft"], ["6", "2020-01-02 junk", "1", "theft"],
        ], formats: [.iso8601])
        #expect(output.incidents.map(\.occurredAt) == [epoch("2020-01-02T13:00:00Z"), epoch("2020-01-02T14:30:00Z"), epoch("2020-01-02T00:00:00Z")])
        #expect(output.incidents.map(\.flags) == [[], [], [.noTimeOfDay]])
        #expect(output.rejects.map(\.reason) == [.badTimestamp, .badTimestamp, .badTimestamp])
        #expect(output.rejects.first?.message.contains("time") == true)
    }

    @Test func monthOnlyRecordsKeepTheirPrecision() throws {
        let (_, output) = try clean(ColumnMapping(fields: [.incidentID: ["id"], .occurredAt: ["month"], .category: ["what"]]),
                                    header: ["id", "month", "what"], [["1", "2016-07", "theft"], ["2", "2016-07-09", "theft"]],
                                    formats: [TimestampFormat("%Y-%m")!, .iso8601])
        #expect(output.incidents.map(\.precision) == [.month, .day])
        #expect(output.incidents.map { CivilDate.isoDate(days: Int($0.localDay)) } == ["2016-07-01", "2016-07-09"])
    }

    // MARK: A run

    /// Month-only incidents stay out of every day-level output, and the run says how many there
    /// were; the columns each file was read by are in the summary.
    @Test func aRunCountsMonthOnlyIncidentsApartAndSaysWhichColumnsItRead() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            var pipeline = try PipelineDefinition.load(path: repoPath("fixtures/replay/police-uk/pipeline.yaml"))
            pipeline.aggregate.tables = [.hotspots, .trends]
            func runner(_ pipeline: PipelineDefinition, asOf: String) throws -> PipelineRunner {
                var runner = PipelineRunner(settings: try testSettings(schema: schema), pipeline: pipeline, logger: .init(label: "test"))
                runner.asOfDate = asOf
                return runner
            }
            let summary = try runner(pipeline, asOf: "2016-07-31").run()
            #expect(summary.rowsMonthOnly == 7 && summary.rowsLoaded == 7)
            #expect(summary.text.contains("known only to the month: 7"))
            let s = quoteIdentifier(schema)
            #expect(try db.query("SELECT count(*) FROM \(s).district_daily").scalar == "0")
            #expect(try db.query("SELECT sum(incident_count) FROM \(s).district_monthly WHERE category = 'all'").scalar == "7")
            #expect(summary.flags["area_code_disagrees"] == 1 && summary.geocodeMethods["area_code"] == 1)
            #expect(try db.query("SELECT n_incidents FROM \(s).hotspot_grids WHERE analysis = 'hotspot' ORDER BY window_days LIMIT 1").scalar == "0")
            #expect(try db.query("SELECT rows_month_only FROM \(s).pipeline_runs").scalar == "7")

            // A later day-precision load into the same month keeps the month-only counts of the first
            // (its own run staged none: the monthly rebuild finds them by what was counted before).
            let days = try temporaryFile("police-uk-days.csv", contents: """
                Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context
                d1,2016-07-09,Synthetic Police,Synthetic Police,-1.575000,53.790000,On or near Fixture Street,A1,Grid A1,Burglary,,

                """)
            var dayPipeline = pipeline
            dayPipeline.inputs = [days]
            dayPipeline.clean.timestampFormats = [TimestampFormat("%Y-%m-%d")!]
            let dayRun = try runner(dayPipeline, asOf: "2016-07-31").run()
            #expect(dayRun.rowsLoaded == 1 && dayRun.rowsMonthOnly == 0)
            let july = try #require(try db.query("""
                SELECT incident_count, month_only_count FROM \(s).district_monthly WHERE month = '2016-07-01' AND district_code = 'A1' AND category = 'all'
                """).typedRows.first)
            #expect(try july.int(0) == 3 && july.int(1) == 2)
            #expect(try db.query("SELECT sum(incident_count) FROM \(s).district_daily WHERE category = 'all'").scalar == "1")

            let renamed = try PipelineDefinition.load(path: repoPath("fixtures/replay/renamed-columns/pipeline.yaml"))
            let second = try runner(renamed, asOf: "2009-03-01").run()
            #expect(second.inputs.map { $0.columns?["occurred_at"] } == ["DateOccur", "DateOccured"])
            #expect(second.inputs.map { $0.columns?["lat"] } == ["Lat", "Latitude"])
            #expect(second.text.contains("occurred_at ← DateOccured"))
            // The first record no format matched is named by file and line, never by its text.
            #expect(second.text.contains("rejected bad_timestamp: 1 (first: \(repoPath("fixtures/incidents/any-export/renamed-2008.csv")) line 4)"))
            #expect(!second.text.contains("2/30/2008"))
            #expect(second.json().contains("\"columns\""))
        }
    }

    // MARK: Commands and the report

    /// Another force's data: `report` and `check` without --pipeline use the pipeline the ledger
    /// says made it (not the settings' Kuwait one), the ledger says `run`, and the report carries
    /// nothing of Kuwait while it says how many incidents were known only to the month.
    @Test func reportAndCheckFollowTheLedgersPipelineAndTheReportHasNothingOfKuwait() throws {
        try withScratchSchema { db, schema in
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema]
            #expect(try runCLI(["migrate"], environment: env, inheritDatabase: true).status == 0)
            let pipeline = repoPath("fixtures/replay/police-uk/pipeline.yaml")
            let run = try runCLI(["run", "--pipeline", pipeline, "--date", "2016-07-31"], environment: env, inheritDatabase: true)
            #expect(run.status == 0, "\(run.stderr)")
            let s = quoteIdentifier(schema)
            let row = try #require(try db.query("SELECT kind, pipeline_file FROM \(s).pipeline_runs").typedRows.first)
            #expect(try row.text(0) == "run" && row.text(1) == pipeline)

            let out = try temporaryFile("report.html", contents: "")
            let report = try runCLI(["report", "--date", "2016-07-31", "--out", out], environment: env, inheritDatabase: true)
            #expect(report.status == 0, "\(report.stderr)")
            #expect(report.stderr.contains("pipeline from the ledger") && report.stderr.contains("police-uk"))
            let html = try String(contentsOfFile: out, encoding: .utf8)
            for kuwait in ["Kuwait", "kuwait", "KWT", "geoBoundaries", "Governorate", "coast", "خريطتي"] {
                #expect(!html.contains(kuwait), "the report of another force says \(kuwait)")
            }
            #expect(!html.unicodeScalars.contains { (0x0600...0x06FF).contains($0.value) }, "Arabic text in another force's report")
            #expect(html.contains("Grid A1") && html.contains("Map of the areas"))
            #expect(html.contains("known only to the month 7"))
            #expect(html.contains("<td>area_code_disagrees</td><td class=\"n\">1</td>"))

            let check = try runCLI(["check"], environment: env, inheritDatabase: true)
            #expect(check.stdout.contains("replay-police-uk"), "\(check.stdout)")
            let explicit = try runCLI(["check", "--pipeline", repoPath("pipelines/nightly.yaml")], environment: env, inheritDatabase: true)
            #expect(explicit.stdout.contains("nightly (") && !explicit.stdout.contains("replay-police-uk"), "\(explicit.stdout)")
        }
    }

    /// Kuwait's own report keeps its Arabic title, names, attribution and inset: they are the
    /// nightly pipeline's `report:` section now, not the code's defaults.
    @Test func kuwaitsReportKeepsWhatItsPipelineSays() throws {
        let report = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml")).report
        #expect(report.localTitle == "خريطتي" && report.namesLanguage == "ar" && report.insetMaxAreaKm2 == 20)
        #expect(report.attribution?.contains("geoBoundaries") == true)
        #expect(ReportSettings().attribution == nil && ReportSettings().localTitle == nil && ReportSettings().insetMaxAreaKm2 == nil)
    }

    /// The export's area code places what has no usable point, and is compared with the point's
    /// answer where both exist: a disagreement keeps the point's area, flagged and explained.
    @Test func anAreaCodePlacesWhatHasNoPointAndIsComparedWithThePoint() throws {
        let layer = try DistrictLayer.load(try PipelineDefinition.load(path: repoPath("fixtures/replay/police-uk/pipeline.yaml")).boundaries)
        let noPoint = layer.place(lat: nil, lon: nil, areaName: nil, areaCode: "B2")
        #expect(noPoint.district?.code == "B2" && noPoint.method == .areaCode && !noPoint.codeDisagrees)
        let agrees = layer.place(lat: 53.79, lon: -1.575, areaName: nil, areaCode: "A1")
        #expect(agrees.district?.code == "A1" && agrees.method == .point && !agrees.codeDisagrees && agrees.detail == nil)
        let disagrees = layer.place(lat: 53.79, lon: -1.575, areaName: nil, areaCode: "B2")
        #expect(disagrees.district?.code == "A1" && disagrees.method == .point && disagrees.codeDisagrees)
        #expect(disagrees.detail?.contains("area code B2 is Grid B2 (B2)") == true)
        let unknown = layer.place(lat: 53.79, lon: -1.575, areaName: nil, areaCode: "Z9")
        #expect(unknown.district?.code == "A1" && unknown.codeDisagrees && unknown.detail?.contains("names no area") == true)
        let outside = layer.place(lat: 53.70, lon: -1.70, areaName: nil, areaCode: "B1")
        #expect(outside.district?.code == "B1" && outside.method == .areaCode)
        let nothing = layer.place(lat: nil, lon: nil, areaName: nil, areaCode: "Z9")
        #expect(nothing.district == nil && nothing.method == GeocodeMethod.none && nothing.detail?.contains("unknown area code Z9") == true)
    }

    /// With `dedup: none` ids are file name and line: two inputs of one name in one run are refused
    /// before anything is read, instead of one's records counting as the other's duplicates.
    @Test func dedupNoneRefusesTwoInputsOfOneName() throws {
        var pipeline = try PipelineDefinition.load(path: repoPath("fixtures/replay/police-uk/pipeline.yaml"))
        let source = repoPath("fixtures/incidents/any-export/police-uk-style-2016-07.csv")
        let copies = try ["a", "b"].map { folder -> String in
            let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("dedup-none-\(UUID().uuidString)/\(folder)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let path = dir.appendingPathComponent("police-uk-style-2016-07.csv").path
            try FileManager.default.copyItem(atPath: source, toPath: path)
            return path
        }
        pipeline.inputs = copies
        do {
            _ = try PipelineRunner(settings: try testSettings(schema: "unused"), pipeline: pipeline, logger: .init(label: "test")).run()
            Issue.record("two inputs of one name were loaded with dedup: none")
        } catch let error as ConfigError {
            #expect(error.key == "dedup" && error.description.contains("police-uk-style-2016-07.csv"))
        }
    }
}
