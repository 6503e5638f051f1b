import Foundation
import Postgres
import Testing

/// scripts/local-db.sh, on a second throwaway cluster (own folder and port) so the suite's own
/// database is never disturbed: idempotent start, recovery after a crash, clean stop.
@Suite struct LocalDatabaseScriptTests {
    func script(_ command: String, dir: String, port: Int) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repoPath("scripts/local-db.sh"), command]
        var env = ProcessInfo.processInfo.environment
        env["KHAREETATY_LOCALDB_DIR"] = dir
        env["KHAREETATY_LOCALDB_PORT"] = String(port)
        process.environment = env
        // Output goes to a file, not a pipe: the server the script starts could inherit a pipe's
        // write end from this process and keep it open for ever.
        let outputPath = dir + ".out"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try output.close()
        let text = try String(contentsOfFile: outputPath, encoding: .utf8)
        return (process.terminationStatus, text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func startIsIdempotentAndRecoversFromACrash() throws {
        let dir = "/tmp/khareetaty-localdb-test-\(UUID().uuidString.prefix(8))"
        let port = 55_000 + Int.random(in: 0..<2_000)
        defer {
            _ = try? script("stop", dir: dir, port: port)
            try? FileManager.default.removeItem(atPath: dir)
        }

        let first = try script("start", dir: dir, port: port)
        #expect(first.status == 0)
        #expect(first.output.contains("port=\(port)"))
        #expect(try PostgresConnection(conninfo: first.output).query("SHOW fsync").scalar == "off")

        // Running it twice is a no-op that prints the same connection string.
        let second = try script("start", dir: dir, port: port)
        #expect(second.status == 0 && second.output == first.output)

        // Crash: kill -9 the postmaster, leaving its pid file and socket lock behind.
        let pidText = try String(contentsOfFile: dir + "/data/postmaster.pid", encoding: .utf8)
        let pid = try #require(Int32(pidText.split(separator: "\n").first ?? ""))
        #expect(kill(pid, SIGKILL) == 0)
        for _ in 0..<100 where kill(pid, 0) == 0 { usleep(50_000) }
        #expect(FileManager.default.fileExists(atPath: dir + "/data/postmaster.pid"))
        usleep(500_000)  // let the orphaned backends notice their postmaster died

        let recovered = try script("start", dir: dir, port: port)
        #expect(recovered.status == 0)
        #expect(try PostgresConnection(conninfo: recovered.output).query("SELECT 1").scalar == "1")

        #expect(try script("stop", dir: dir, port: port).status == 0)
        #expect(try script("status", dir: dir, port: port).status != 0)
    }
}
