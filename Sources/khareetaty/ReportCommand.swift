import ArgumentParser
import Foundation
import KhareetatyCore
import Logging

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render the morning report for a date: one self-contained HTML file.",
        discussion: """
            A map of the areas coloured by the change of the last 7 days against the baseline, with the significant
            Gi* hot- and cold-spot cells and the emerging hot spots over it; the top areas by count and by change with
            12-week sparklines and their trend; the emerging hot-spot patterns; and the accounting, inputs and
            checksums of every run that loaded the incidents of its last 7 days. No script, no network request: it opens from
            disk or on a phone. --pdf and --png add a printable PDF and a PNG for mail (headless Chromium). With report.dir
            set, every committed run writes its own HTML.

            \(exitCodesHelp)
            """
    )
    @OptionGroup var global: GlobalOptions
    @OptionGroup var pipelineOptions: PipelineOptions
    @Option(name: .long, help: ArgumentHelp("The date, YYYY-MM-DD, or `latest` (the last day with incidents; default: yesterday in the pipeline's time zone).", valueName: "date"))
    var date: String?
    @Option(name: .long, help: ArgumentHelp("Output file (default: khareetaty-report-DATE.html).", valueName: "file"))
    var out: String?
    @Option(name: .long, help: ArgumentHelp("Also print it to this PDF file (A4, by headless Chromium).", valueName: "file"))
    var pdf: String?
    @Option(name: .long, help: ArgumentHelp("Also render it to this PNG file, 1000 px wide: the copy for mail (mail clients strip inline SVG).", valueName: "file"))
    var png: String?

    func validate() throws {
        if let date, !PipelineRunner.isValidDate(date) { throw ValidationError("--date must be a date YYYY-MM-DD or latest, not \(date)") }
    }

    func run() throws {
        let day = date == PipelineRunner.latest ? nil : date
        let (settings, definition) = try pipelineOptions.loadRecorded(global, from: day, to: day)
        let layer = try DistrictLayer.load(definition.boundaries)
        let db = try Database.connect(settings)
        try Migrator(connection: db, schema: settings.schema).requireCurrent()
        let yesterday = CivilDate.yesterday(in: definition.timeZone)
        let asOf = date == PipelineRunner.latest
            ? try PipelineRunner.latestIncidentDate(db: db, schema: settings.schema) ?? yesterday
            : date ?? yesterday
        let path = out ?? "khareetaty-report-\(asOf).html"
        // Find the browser before the work, so a missing one fails fast.
        let browser = pdf == nil && png == nil ? nil : try HeadlessBrowser.find()
        let report = try MorningReport.load(db: db, schema: settings.schema, asOf: asOf, layer: layer,
                                            presentation: definition.report, timeZone: definition.timeZone)
        try report.write(to: path)
        print(path)
        if let pdf, let browser { try browser.pdf(html: report.html(), to: pdf); print(pdf) }
        if let png, let browser { try browser.png(html: report.html(), to: png); print(png) }
    }
}
