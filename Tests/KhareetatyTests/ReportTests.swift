import Foundation
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// The morning report of the fixture run: self-contained, one SVG path per area, the run's
/// accounting, Arabic names right to left — and opened in a real browser (headless Chromium):
/// it renders, its DOM has the areas, and the console shows no error and no network attempt.
@Suite struct ReportTests {
    static let chromium = "/usr/bin/chromium"

    /// Chromium's console and network complaints while loading `file` (stderr with logging on),
    /// its exit status, and the DOM it built.
    static func openInChromium(_ file: String, screenshot: String) throws -> (status: Int32, problems: [String], dom: String) {
        let common = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
                      "--user-data-dir=" + NSTemporaryDirectory() + "chromium-\(UUID().uuidString.prefix(8))",
                      // Any attempt to reach the network fails loudly instead of leaving this machine.
                      "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000"]
        let shot = try runTool(chromium, common + ["--window-size=1280,2200", "--screenshot=" + screenshot, "file://" + file])
        let problems = shot.output.split(separator: "\n").map(String.init).filter {
            $0.contains("CONSOLE") || $0.contains("Uncaught") || $0.contains("net::ERR_") || $0.contains("Failed to load resource")
        }
        let dom = try runTool(chromium, common + ["--dump-dom", "file://" + file])
        return (shot.status, problems, dom.output)
    }

    @Test func theDetectorCatchesConsoleErrorsAndNetworkAttempts() throws {
        let page = try temporaryFile("bad.html", contents: """
            <!DOCTYPE html><html><body><img src="http://example.invalid/x.png"><script>console.error("broken")</script></body></html>
            """)
        let result = try Self.openInChromium(page, screenshot: page + ".png")
        #expect(!result.problems.isEmpty, "a page with an error and a remote image passed the check")
    }

    @Test func fixtureReportIsSelfContainedAndRendersInChromium() throws {
        try withScratchSchema { db, schema in
            let summary = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24").run()
            let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
            let layer = try DistrictLayer.load(pipeline.boundaries)
            let path = try temporaryFile("report.html", contents: "")
            try MorningReport.load(db: db, schema: schema, asOf: "2026-11-24", layer: layer, presentation: pipeline.report).write(to: path)
            let html = try String(contentsOfFile: path, encoding: .utf8)

            #expect(html.components(separatedBy: "<path class=\"area\"").count - 1 == layer.districts.count)
            #expect(layer.districts.count == 137)
            for needle in ["http://", "https://", "<script", "src=", "@import", "url(", "<link", "@font-face"] {
                #expect(!html.contains(needle), "the report refers outside itself: \(needle)")
            }
            let s = quoteIdentifier(schema)
            let significant = try db.query("""
                SELECT count(*) FROM \(s).hotspot_cells WHERE as_of_date = '2026-11-24'
                  AND window_days = (SELECT min(window_days) FROM \(s).hotspot_grids WHERE as_of_date = '2026-11-24') AND gi_bin <> 0
                """).scalar
            // Each map (all areas; the urban coast enlarged) holds one path per area and every significant cell.
            let maps = html.components(separatedBy: "</svg>").filter { $0.contains("<g id=\"areas\">") }
            #expect(maps.count == 2)
            #expect(html.components(separatedBy: "<path class=\"inset\"").count - 1 == layer.districts.count)
            for map in maps { #expect(String(map.components(separatedBy: "<path class=\"cell\"").count - 1) == significant) }
            #expect(significant != "0")
            #expect(html.contains("read \(summary.rowsRead) = loaded \(summary.rowsLoaded) + rejected \(summary.rowsRejected) + duplicates \(summary.rowsDuplicate)"))
            for input in summary.inputs { #expect(html.contains(input.sha256)) }
            #expect(html.range(of: #"lang="ar" dir="rtl">[\x{0600}-\x{06FF}]"#, options: .regularExpression) != nil, "no Arabic name set right to left")
            #expect(html.contains("Top areas by incidents") && html.contains("<svg class=\"spark\""))

            let screenshot = path + ".png"
            let browser = try Self.openInChromium(path, screenshot: screenshot)
            #expect(browser.status == 0)
            #expect(browser.problems.isEmpty, "\(browser.problems)")
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 50_000)
            #expect(browser.dom.components(separatedBy: "<path class=\"area\"").count - 1 == layer.districts.count)
        }
    }

    @Test func reportCommandWritesTheFileAndRunWritesOneWithReportDir() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let dir = NSTemporaryDirectory() + "khareetaty-reports-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema, "KHAREETATY_REPORT_DIR": dir]
            let run = try runCLI(["run", "--date", "2026-11-24"], environment: env, inheritDatabase: true)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(FileManager.default.fileExists(atPath: dir + "/khareetaty-nightly-2026-11-24.html"))
            let out = dir + "/on-demand.html"
            let report = try runCLI(["report", "--date", "2026-11-24", "--out", out], environment: env, inheritDatabase: true)
            #expect(report.status == 0 && report.stdout.contains(out), "\(report.stderr)")
            let a = try String(contentsOfFile: out, encoding: .utf8), b = try String(contentsOfFile: dir + "/khareetaty-nightly-2026-11-24.html", encoding: .utf8)
            // The same content but for the generation time.
            func body(_ s: String) -> String { s.replacingOccurrences(of: #"generated [0-9T:\-Z+]+"#, with: "", options: .regularExpression) }
            #expect(body(a) == body(b))
        }
    }
}
