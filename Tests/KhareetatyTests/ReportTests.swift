import Foundation
import Geo
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

    /// Layout facts of `file` in headless Chromium with a `width` × `height` window, measured by a
    /// script added to a copy of the page (the report itself has none) and read back from the DOM.
    static func measure(_ file: String, width: Int, height: Int) throws -> [String: Any] {
        let script = """
            <script>addEventListener('load', () => {
              const r = { innerWidth: innerWidth, scrollWidth: document.documentElement.scrollWidth };
              r.areaPaths = document.querySelectorAll('path.area').length;
              r.insetPaths = document.querySelectorAll('path.inset').length;
              r.labels = [...document.querySelectorAll('text.label')].map(t => { const b = t.getBoundingClientRect();
                return { text: t.textContent, width: b.width, height: b.height, left: b.left, right: b.right }; });
              const inset = document.querySelector('figure.inset-figure svg');
              if (inset) {
                const frame = inset.getBoundingClientRect(), figure = inset.parentElement.getBoundingClientRect(), box = inset.viewBox.baseVal;
                r.inset = { left: frame.left, right: frame.right, figureLeft: figure.left, figureRight: figure.right,
                  focus: inset.querySelectorAll('path[data-focus]').length,
                  outside: [...inset.querySelectorAll('path[data-focus]')].filter(p => { const b = p.getBBox();
                    return b.x < 0 || b.y < 0 || b.x + b.width > box.width || b.y + b.height > box.height; }).map(p => p.dataset.code) };
              }
              r.rtl = [...document.querySelectorAll('td[dir=rtl]')].map(td => getComputedStyle(td).textAlign);
              r.mapWidth = document.querySelector('svg.map').getBoundingClientRect().width;
              parent.postMessage(JSON.stringify(r), '*');
            });</script></body>
            """
        // Headless Chromium's window is at least 500 px wide: the page is measured in a frame of
        // exactly the asked size, which posts its facts to the harness around it.
        let copy = file + "-measure-\(width).html", harness = file + "-harness-\(width).html"
        try (try String(contentsOfFile: file, encoding: .utf8)).replacingOccurrences(of: "</body>", with: script)
            .write(toFile: copy, atomically: true, encoding: .utf8)
        try """
            <!DOCTYPE html><html><body style="margin:0"><iframe src="\(URL(fileURLWithPath: copy).lastPathComponent)" style="border:0;width:\(width)px;height:\(height)px"></iframe>
            <script>addEventListener('message', e => { const p = document.createElement('pre'); p.id = 'measured'; p.textContent = e.data; document.body.appendChild(p); });</script>
            </body></html>
            """.write(toFile: harness, atomically: true, encoding: .utf8)
        let dom = try runTool(chromium, ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                                         "--user-data-dir=" + NSTemporaryDirectory() + "chromium-\(UUID().uuidString.prefix(8))",
                                         "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=5000",
                                         "--window-size=\(max(width, 500) + 40),\(height + 40)", "--dump-dom", "file://" + harness]).output
        guard let start = dom.range(of: "<pre id=\"measured\">"), let end = dom.range(of: "</pre>", range: start.upperBound..<dom.endIndex) else {
            throw TestSetupError(description: "the measuring script did not run")
        }
        let json = dom[start.upperBound..<end.lowerBound].replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
        return try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    }

    /// The issue's checks, on a desktop and a phone: nothing wider than the window, every area
    /// drawn, the top areas named on a map and readable, the inset's areas inside its frame and
    /// the frame inside its figure, Arabic right-aligned.
    @Test(arguments: [(1400, 1000), (390, 844)])
    func readsOnADesktopAndAPhone(width: Int, height: Int) throws {
        try withScratchSchema { db, schema in
            _ = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24").run()
            let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
            let layer = try DistrictLayer.load(pipeline.boundaries)
            let report = try MorningReport.load(db: db, schema: schema, asOf: "2026-11-24", layer: layer, presentation: pipeline.report, timeZone: pipeline.timeZone)
            let path = try temporaryFile("report.html", contents: "")
            try report.write(to: path)
            let m = try Self.measure(path, width: width, height: height)

            let inner = m["innerWidth"] as! Double, scroll = m["scrollWidth"] as! Double
            #expect(inner == Double(width))
            #expect(scroll <= inner, "the page is \(scroll) px wide in a \(inner) px window")
            #expect(m["areaPaths"] as? Int == 137 && m["insetPaths"] as? Int == 137)
            #expect((m["mapWidth"] as! Double) <= inner)

            let labels = m["labels"] as! [[String: Any]]
            let top = report.topByCount.map(\.displayName)
            #expect(top.count == 10)
            for name in top {
                let label = labels.first { $0["text"] as? String == name }
                #expect(label != nil, "\(name) is not named on a map")
                if let label {
                    #expect((label["width"] as! Double) > 0 && (label["height"] as! Double) >= 6, "\(name) is too small to read: \(label)")
                    #expect((label["left"] as! Double) >= 0 && (label["right"] as! Double) <= inner, "\(name) is off the page: \(label)")
                }
            }

            let inset = m["inset"] as! [String: Any]
            #expect((inset["focus"] as! Int) >= 3)
            #expect((inset["outside"] as! [String]).isEmpty, "cut by the inset's frame: \(inset["outside"]!)")
            #expect((inset["left"] as! Double) >= (inset["figureLeft"] as! Double) && (inset["right"] as! Double) <= (inset["figureRight"] as! Double) + 0.5)
            #expect((inset["right"] as! Double) <= inner)

            let rtl = m["rtl"] as! [String]
            #expect(!rtl.isEmpty && rtl.allSatisfy { $0 == "right" }, "\(rtl)")
        }
    }

    /// The audit names every run whose load holds incidents of the last 7 days, not only the last
    /// run of the date (which may have loaded nothing new).
    @Test func theAuditListsEveryRunThatLoadedTheWindow() throws {
        try withScratchSchema { db, schema in
            let lines = try String(contentsOfFile: repoPath("fixtures/incidents/kuwait-sample.csv"), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            let halves = [1, 0].map { parity in
                lines[0] + "\n" + lines.dropFirst().enumerated().filter { $0.offset % 2 == parity }.map(\.element).joined(separator: "\n") + "\n"
            }
            let first = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24", inputs: [try temporaryFile("part-a.csv", contents: halves[0])]).run()
            let second = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24", inputs: [try temporaryFile("part-b.csv", contents: halves[1])]).run()
            // A third run of the date that loads nothing new computes the aggregates last.
            let third = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24", inputs: [try temporaryFile("part-a.csv", contents: halves[0])]).run()
            #expect(third.rowsLoaded == 0)
            let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
            let report = try MorningReport.load(db: db, schema: schema, asOf: "2026-11-24", layer: try DistrictLayer.load(pipeline.boundaries),
                                                presentation: pipeline.report, timeZone: pipeline.timeZone)
            #expect(report.loadingRuns.map(\.runID) == [first.runID, second.runID])
            let window = try db.query("SELECT count(*) FROM \(quoteIdentifier(schema)).incidents WHERE local_date BETWEEN '2026-11-18' AND '2026-11-24'").scalar
            #expect(String(report.loadingRuns.reduce(0) { $0 + $1.incidentsInWindow }) == window)
            #expect(report.aggregatesRun?.runID == third.runID)
            let html = report.html()
            for run in [first, second] {
                #expect(html.contains(run.runID))
                #expect(html.contains("read \(run.rowsRead) = loaded \(run.rowsLoaded) + rejected \(run.rowsRejected) + duplicates \(run.rowsDuplicate)"))
            }
            #expect(html.contains("were computed by run <span class=\"mono\">\(third.runID)</span>"))
            // Started times are the pipeline's zone (Kuwait, UTC+3), not UTC.
            let utc = try db.query("SELECT to_char(started_at AT TIME ZONE 'Asia/Kuwait', 'YYYY-MM-DD HH24:MI:SS') FROM \(quoteIdentifier(schema)).pipeline_runs WHERE run_id = $1", [first.runID]).scalar!
            #expect(report.loadingRuns[0].started == utc && html.contains(utc + " Asia/Kuwait"))
        }
    }

    /// A date without aggregates, or whose week has no incident, tells what to run; so does `run`.
    @Test func aDateWithoutDataSaysWhatToRun() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema]
            #expect(try runCLI(["run", "--date", "2026-11-24"], environment: env, inheritDatabase: true).status == 0)
            let out = try temporaryFile("later.html", contents: "")
            let report = try runCLI(["report", "--date", "2026-12-20", "--out", out], environment: env, inheritDatabase: true)
            #expect(report.status == 0, "\(report.stderr)")
            let html = try String(contentsOfFile: out, encoding: .utf8)
            #expect(html.contains("No aggregates for 2026-12-20"))
            #expect(html.contains("<code>khareetaty run --date 2026-12-20</code>") && html.contains("<code>khareetaty run --date 2026-11-24</code>"))
            #expect(html.contains("<code>khareetaty backfill --from 2026-11-01 --to 2026-11-24</code>"))

            let run = try runCLI(["run", "--date", "2026-12-20"], environment: env, inheritDatabase: true)
            #expect(run.status == 0)
            #expect(run.stdout.contains("note: no incidents in the 7 days to 2026-12-20") && run.stdout.contains("khareetaty run --date 2026-11-24"), "\(run.stdout)")
            #expect(try runCLI(["report", "--date", "2026-12-20", "--out", out], environment: env, inheritDatabase: true).status == 0)
            #expect(try String(contentsOfFile: out, encoding: .utf8).contains("No incidents in the 7 days to 2026-12-20"))
            // The data's own date says nothing of the kind.
            let good = try runCLI(["run", "--date", "2026-11-24"], environment: env, inheritDatabase: true)
            #expect(!good.stdout.contains("note:"))
            #expect(try runCLI(["report", "--date", "2026-11-24", "--out", out], environment: env, inheritDatabase: true).status == 0)
            #expect(!(try String(contentsOfFile: out, encoding: .utf8)).contains("class=\"notice\""))
        }
    }

    /// `report --pdf --png`: a PDF and a PNG 1000 px wide and as tall as the page, by headless Chromium.
    @Test func pdfAndPngForMailAndPrint() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema]
            #expect(try runCLI(["run", "--date", "2026-11-24"], environment: env, inheritDatabase: true).status == 0)
            let dir = URL(fileURLWithPath: try temporaryFile("x", contents: "")).deletingLastPathComponent().path
            let result = try runCLI(["report", "--date", "2026-11-24", "--out", dir + "/r.html", "--pdf", dir + "/r.pdf", "--png", dir + "/r.png"],
                                    environment: env, inheritDatabase: true)
            #expect(result.status == 0, "\(result.stderr)")
            let pdf = try Data(contentsOf: URL(fileURLWithPath: dir + "/r.pdf"))
            #expect(pdf.starts(with: Array("%PDF-".utf8)) && pdf.count > 20_000)
            let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/r.png"))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            // IHDR: width and height, big-endian, at bytes 16 and 20.
            func be32(_ at: Int) -> Int { png[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
            #expect(be32(16) == 1000 && be32(20) > 1500, "\(be32(16)) x \(be32(20))")
            // Without a browser: a clear error, before any work.
            let missing = try runCLI(["report", "--date", "2026-11-24", "--out", dir + "/s.html", "--pdf", dir + "/s.pdf"],
                                     environment: env.merging(["KHAREETATY_CHROMIUM": "/nonexistent/chromium"]) { $1 }, inheritDatabase: true)
            #expect(missing.status == 2 && missing.stderr.contains("KHAREETATY_CHROMIUM"), "\(missing.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/s.html"))
        }
    }

    @Test func namesReadAsPeopleWriteThem() {
        #expect(MorningReport.displayName("Jleeb_Al- Shiyoukh") == "Jleeb Al-Shiyoukh")
        #expect(MorningReport.displayName("Airport_District") == "Airport District")
        #expect(MorningReport.displayName("Sad Elabdallah") == "Sad Elabdallah")
        #expect(MorningReport.displayName("  Mina  -  Abdulla ") == "Mina - Abdulla")
        #expect(MorningReport.number(1_234_567) == "1,234,567" && MorningReport.number(999) == "999" && MorningReport.number(-1000) == "-1,000")
        #expect(MorningReport.bytes(812) == "812 B" && MorningReport.bytes(45_200).hasPrefix("45.2 kB"))
    }

    /// Adjacent cells merge into one outline: a 2 × 2 block has 8 outer edges, none inside.
    @Test func adjacentCellsMergeIntoOneOutline() {
        let grid = MorningReport.CellGrid(projection: TransverseMercator(lon0: 48, lat0: 29), originX: 0, originY: 0, size: 300)
        let frame = MapFrame(areas: [], focus: BoundingBox(minLon: 47.9, minLat: 28.9, maxLon: 48.1, maxLat: 29.1), width: 500)
        func edges(_ cells: [(Int, Int)]) -> Int { MorningReport.outline(cells, grid: grid, frame: frame).components(separatedBy: "M").count - 1 }
        #expect(edges([(0, 0)]) == 4)
        #expect(edges([(0, 0), (1, 0), (0, 1), (1, 1)]) == 8)
        #expect(edges([(0, 0), (1, 0), (2, 0), (0, 1)]) == 10)  // an L of four
        #expect(edges([(0, 0), (5, 5)]) == 8)                   // apart: two squares
    }

    /// The inset is the densest group of small areas (the urban coast), not every small area:
    /// the new towns far south (Wafra, Khairan) stay out, the Jahra and Fahaheel ends stay in.
    @Test func theInsetShowsTheUrbanCoastNotTheDesertOutliers() throws {
        let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
        let layer = try DistrictLayer.load(pipeline.boundaries)
        var report = MorningReport(asOf: "2026-11-24", generatedAt: Date(), areas: layer.districts.map {
            MorningReport.Area(code: $0.code, name: $0.name, geometry: $0.geometry, weekly: [])
        }, cells: [], emergingPatterns: [], emergingCells: [])
        report.presentation = pipeline.report
        let focus = try #require(report.insetFocus())
        func inside(_ name: String) -> Bool {
            let box = layer.districts.first { $0.name == name }!.geometry.boundingBox
            return box.minLon >= focus.minLon && box.maxLon <= focus.maxLon && box.minLat >= focus.minLat && box.maxLat <= focus.maxLat
        }
        for name in ["West_Jahra", "Fahaheel", "Salmiya", "Sharq", "Mangaf"] { #expect(inside(name), "\(name) is outside the inset") }
        for name in ["Elwafra_Elgededa", "Elkeran_Elgededa"] { #expect(!inside(name), "\(name) drags the inset into the desert") }
        #expect(focus.maxLat - focus.minLat < 0.6)
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
            try MorningReport.load(db: db, schema: schema, asOf: "2026-11-24", layer: layer, presentation: pipeline.report, timeZone: pipeline.timeZone).write(to: path)
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
            func body(_ s: String) -> String { s.replacingOccurrences(of: #"generated [^<]+"#, with: "", options: .regularExpression) }
            #expect(body(a) == body(b))
        }
    }
}
