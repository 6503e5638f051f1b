import Foundation

/// Headless Chromium, for the copies of the report that mail and print need: mail clients
/// (Gmail, Outlook) strip inline SVG, so a PNG goes as an attachment; a PDF prints. The page is
/// our own static file and every host name resolves to nothing, so the browser can reach no
/// network while it renders.
public struct HeadlessBrowser: Sendable {
    public let executable: String

    /// `KHAREETATY_CHROMIUM`, else the first of chromium, chromium-browser, google-chrome on PATH.
    public static func find(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> HeadlessBrowser {
        if let path = environment["KHAREETATY_CHROMIUM"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw BrowserError(message: "KHAREETATY_CHROMIUM=\(path) is not an executable file")
            }
            return HeadlessBrowser(executable: path)
        }
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for dir in directories where FileManager.default.isExecutableFile(atPath: dir + "/" + name) {
                return HeadlessBrowser(executable: dir + "/" + name)
            }
        }
        throw BrowserError(message: "no Chromium for --pdf/--png: install it (Debian: apt-get install chromium) or set KHAREETATY_CHROMIUM")
    }

    /// A4 PDF of the page, colours kept, no header or footer.
    public func pdf(html: String, to path: String) throws {
        try withPage(html) { page, profile in
            try run(common(profile) + ["--no-pdf-header-footer", "--print-to-pdf=" + page + ".pdf", "file://" + page])
            try moveOutput(page + ".pdf", to: path)
        }
    }

    /// A PNG of the whole page at `width` CSS pixels: the page's height is measured first (in a
    /// copy with one line of script; the report itself has none).
    public func png(html: String, to path: String, width: Int = 1000) throws {
        let height = try withPage(html.replacingOccurrences(of: "</body>", with: """
            <script>addEventListener('load', () => document.body.setAttribute('data-page-height', document.documentElement.scrollHeight))</script></body>
            """)) { page, profile -> Int in
            let dom = try run(common(profile) + ["--window-size=\(width),800", "--dump-dom", "file://" + page])
            guard let range = dom.range(of: #"data-page-height="[0-9]+""#, options: .regularExpression),
                  let value = Int(dom[range].dropFirst(18).dropLast()) else {
                throw BrowserError(message: "could not measure the page's height")
            }
            return value
        }
        try withPage(html) { page, profile in
            try run(common(profile) + ["--window-size=\(width),\(min(max(height, 200), 16_000))", "--screenshot=" + page + ".png", "file://" + page])
            try moveOutput(page + ".png", to: path)
        }
    }

    func common(_ profile: String) -> [String] {
        ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
         "--user-data-dir=" + profile, "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=5000"]
    }

    /// The page written to a scratch folder (with a fresh browser profile beside it), removed after.
    func withPage<T>(_ html: String, _ body: (_ page: String, _ profile: String) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("khareetaty-browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("report.html").path
        try Data(html.utf8).write(to: URL(fileURLWithPath: page))
        return try body(page, dir.appendingPathComponent("profile").path)
    }

    /// Runs the browser (at most two minutes); its standard output, or an error with its last words.
    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        // Drain stderr on its own thread, or a chatty browser blocks on a full pipe.
        final class Box: @unchecked Sendable { var data = Data() }
        let errors = Box(), group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errors.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        watchdog.cancel()
        guard process.terminationStatus == 0 else {
            let tail = String(decoding: errors.data, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " / ")
            throw BrowserError(message: "\(executable) failed (status \(process.terminationStatus)): \(tail)")
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// What the browser wrote, put in place whole (beside its final name, then renamed).
    func moveOutput(_ produced: String, to path: String) throws {
        guard let data = FileManager.default.contents(atPath: produced), !data.isEmpty else {
            throw BrowserError(message: "the browser wrote nothing for \(path)")
        }
        try AtomicFile.write(data, to: path)
    }
}

public struct BrowserError: Error, CustomStringConvertible, ExitCodeProviding {
    public let message: String
    public var description: String { message }
    public var exitCode: ExitCode { .usage }
}
