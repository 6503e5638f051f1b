import Foundation
import Logging

/// Progress of long work. On a terminal: one line on stderr, redrawn at most five times a second,
/// with a bar, the rate and the time left. Elsewhere (cron, systemd, a pipe) nothing — or, for
/// work whose steps are few and long (backfill chunks), one log line per step.
final class Progress {
    let total: Double
    let unit: String
    let logger: Logger
    /// The message of the log line per step when not on a terminal; nil: stay quiet.
    let logEachStep: String?
    let terminal: Bool
    private let started = Date()
    private var lastDrawn = Date.distantPast
    private var drawn = false

    init(total: Double, unit: String, logger: Logger, logEachStep: String? = nil, terminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = total
        self.unit = unit
        self.logger = logger
        self.logEachStep = logEachStep
        self.terminal = terminal
    }

    /// `done` of `total` units; `detail` is shown after the bar (e.g. rows read and their rate).
    func advance(to done: Double, label: String, detail: String = "") {
        let elapsed = Date().timeIntervalSince(started)
        let rate = elapsed > 0 ? done / elapsed : 0
        let eta = rate > 0 ? max(total - done, 0) / rate : 0
        if terminal {
            guard done >= total || Date().timeIntervalSince(lastDrawn) >= 0.2 else { return }
            lastDrawn = Date()
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + Self.line(done: done, total: total, unit: unit, rate: rate, eta: eta,
                                                                          label: label, detail: detail)).utf8))
            drawn = true
        } else if let logEachStep {
            logger.info("\(logEachStep)", metadata: ["step": .string(label), "done": "\(Int(done))/\(Int(total))",
                                                    "rate_per_s": .string(String(format: "%.2f", rate)), "eta_s": .string(String(format: "%.0f", eta))])
        }
    }

    /// Ends the line on a terminal, so what follows starts on a fresh one.
    func finish() {
        if terminal && drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }

    static func line(done: Double, total: Double, unit: String, rate: Double, eta: Double, label: String, detail: String) -> String {
        let width = 24
        let share = total > 0 ? min(done / total, 1) : 1
        let filled = Int((share * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let counts = unit == "bytes" ? String(format: "%3.0f%%", share * 100) : String(format: "%.0f/%.0f %@", done, total, unit)
        return "\(bar) \(counts)\(detail.isEmpty ? "" : "  " + detail)  ETA \(formatDuration(eta))  \(label)"
    }

    static func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
