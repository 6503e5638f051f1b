import Foundation
import Testing
import TestSupport
import Yams
@testable import KhareetatyCore

/// The scheduling examples in deploy/: checked with the tools this machine has (systemd-analyze
/// verifies the units and the timer's calendar), parsed (crontab, Kubernetes YAML), and their
/// command lines checked against the binary's own options; the CronJob's retry policy against
/// the exit codes.
@Suite struct DeployTests {
    /// Every `--flag` of a khareetaty command line must be one its subcommand's --help lists.
    func expectKnownFlags(_ arguments: [String], _ origin: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let subcommand = try #require(arguments.first, sourceLocation: sourceLocation)
        let help = try runCLI([subcommand, "--help"])
        #expect(help.status == 0, "\(origin): no subcommand \(subcommand)", sourceLocation: sourceLocation)
        for flag in arguments.dropFirst() where flag.hasPrefix("--") {
            #expect(help.stdout.contains(flag), "\(origin): \(subcommand) has no option \(flag)", sourceLocation: sourceLocation)
        }
    }

    @Test func systemdUnitsVerifyAndTheTimerFiresAt0215Kuwait() throws {
        // systemd-analyze wants the binary and the user to exist: a copy of the units pointing at
        // the built binary, run as root.
        let dir = NSTemporaryDirectory() + "khareetaty-units-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try String(contentsOfFile: repoPath("deploy/systemd/khareetaty.service"), encoding: .utf8)
        let exec = try #require(service.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        let arguments = exec.dropFirst("ExecStart=".count).split(separator: " ").map(String.init)
        #expect(arguments.first == "/usr/local/bin/khareetaty")
        try expectKnownFlags(Array(arguments.dropFirst()), "khareetaty.service")
        try service.replacingOccurrences(of: "/usr/local/bin/khareetaty", with: repoPath(".build/debug/khareetaty"))
            .replacingOccurrences(of: "User=khareetaty", with: "User=root").replacingOccurrences(of: "Group=khareetaty", with: "Group=root")
            .write(toFile: dir + "/khareetaty.service", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: repoPath("deploy/systemd/khareetaty.timer"), toPath: dir + "/khareetaty.timer")
        let verify = try runTool("/usr/bin/systemd-analyze", ["verify", "--man=no", dir + "/khareetaty.service", dir + "/khareetaty.timer"])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(!verify.output.contains("khareetaty."), "systemd-analyze complained: \(verify.output)")
        // Hardened: systemd's own exposure score (0 best … 10 worst) stays at 2 or below ("OK").
        let security = try runTool("/usr/bin/systemd-analyze", ["security", "--offline=yes", "--threshold=20", dir + "/khareetaty.service"])
        #expect(security.status == 0, "\(security.output.split(separator: "\n").suffix(3).joined(separator: "\n"))")
        #expect(security.output.contains("Overall exposure level"))
        // Optional directories do not fail the unit on hosts without them; the password comes as a credential.
        let writable = try #require(service.split(separator: "\n").first { $0.hasPrefix("ReadWritePaths=") }).dropFirst("ReadWritePaths=".count)
        #expect(writable.split(separator: " ").allSatisfy { $0.hasPrefix("-/") })
        #expect(service.contains("LoadCredential=pgpass:") && service.contains("PGPASSFILE=%d/pgpass"))

        let timer = try String(contentsOfFile: repoPath("deploy/systemd/khareetaty.timer"), encoding: .utf8)
        let calendar = try #require(timer.split(separator: "\n").first { $0.hasPrefix("OnCalendar=") }).dropFirst("OnCalendar=".count)
        let next = try runTool("/usr/bin/systemd-analyze", ["calendar", String(calendar)])
        #expect(next.status == 0, "\(next.output)")
        // 02:15 in Kuwait is 23:15 UTC.
        #expect(next.output.contains("23:15:00 UTC"), "\(next.output)")
        #expect(service.contains("RestartPreventExitStatus=\(ExitCode.usage.rawValue) \(ExitCode.dataError.rawValue) \(ExitCode.noInput.rawValue)"))
    }

    @Test func crontabLineIsValidAndRunsAKnownCommand() throws {
        let text = try String(contentsOfFile: repoPath("deploy/cron/khareetaty"), encoding: .utf8)
        let jobs = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.contains("=") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(jobs.count == 1)
        let fields = try #require(jobs.first).split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let ranges = [0...59, 0...23, 1...31, 1...12, 0...7]
        for (field, range) in zip(fields.prefix(5), ranges) where field != "*" {
            #expect(Int(field).map(range.contains) == true, "cron field \(field) outside \(range)")
        }
        #expect(fields[5] == "khareetaty" && fields[6] == "khareetaty")  // user, then the command
        let command = Array(fields[7...].prefix { !$0.hasPrefix(">") })
        try expectKnownFlags(command, "crontab")
    }

    @Test func cronJobForbidsOverlapAndRetriesOnlyTemporaryFailures() throws {
        let yaml = try String(contentsOfFile: repoPath("deploy/kubernetes/cronjob.yaml"), encoding: .utf8)
        let doc = try #require(try Yams.load(yaml: yaml) as? [String: Any])
        #expect(doc["kind"] as? String == "CronJob")
        let spec = try #require(doc["spec"] as? [String: Any])
        #expect(spec["concurrencyPolicy"] as? String == "Forbid")
        #expect(spec["timeZone"] as? String == "Asia/Kuwait" && spec["schedule"] as? String == "15 2 * * *")
        let job = try #require((spec["jobTemplate"] as? [String: Any])?["spec"] as? [String: Any])
        let pod = try #require((job["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["restartPolicy"] as? String == "Never")
        #expect(pod["enableServiceLinks"] as? Bool == false, "service links would inject KHAREETATY_* variables")
        let rules = try #require((job["podFailurePolicy"] as? [String: Any])?["rules"] as? [[String: Any]])
        let failJob = rules.filter { $0["action"] as? String == "FailJob" }.compactMap { ($0["onExitCodes"] as? [String: Any])?["values"] as? [Int] }.flatMap { $0 }
        #expect(Set(failJob) == [Int(ExitCode.usage.rawValue), Int(ExitCode.dataError.rawValue), Int(ExitCode.noInput.rawValue)])
        #expect(!failJob.contains(Int(ExitCode.temporaryFailure.rawValue)) && (job["backoffLimit"] as? Int ?? 0) > 0)
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        #expect(container["name"] as? String == "khareetaty")
        try expectKnownFlags(try #require(container["args"] as? [String]), "cronjob.yaml")
        // Every KHAREETATY_* variable it sets is a setting the binary knows.
        let known = Set(SettingSpec.all.map(\.environmentVariable))
        for variable in (container["env"] as? [[String: Any]] ?? []).compactMap({ $0["name"] as? String }) where variable.hasPrefix("KHAREETATY_") {
            #expect(known.contains(variable), "cronjob.yaml sets unknown \(variable)")
        }
    }
}

/// Runs a tool and returns its exit status and combined output (no throw on a non-zero exit).
func runTool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let outputPath = NSTemporaryDirectory() + "tool-\(UUID().uuidString.prefix(8)).txt"
    _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: outputPath) }
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    process.standardOutput = output
    process.standardError = output
    try process.run()
    process.waitUntilExit()
    try output.close()
    return (process.terminationStatus, try String(contentsOfFile: outputPath, encoding: .utf8))
}
