import Foundation
import Postgres
import Testing

/// scripts/local-db.sh, on a second throwaway cluster (own folder and port) so the suite's own
/// database is never disturbed: idempotent start, recovery after a crash, clean stop.
@Suite struct LocalDatabaseScriptTests {
    @Test func startIsIdempotentAndRecoversFromACrash() throws {
        let dir = "/tmp/khareetaty-localdb-test-\(UUID().uuidString.prefix(8))"
        let port = 55_000 + Int.random(in: 0..<2_000)
        defer {
            _ = try? localDB("stop", dir: dir, port: port)
            try? FileManager.default.removeItem(atPath: dir)
        }

        let first = try localDB("start", dir: dir, port: port)
        #expect(first.status == 0)
        #expect(first.output.contains("port=\(port)"))
        #expect(try PostgresConnection(conninfo: first.output).query("SHOW fsync").scalar == "off")

        // Running it twice is a no-op that prints the same connection string.
        let second = try localDB("start", dir: dir, port: port)
        #expect(second.status == 0 && second.output == first.output)

        // Crash: kill -9 the postmaster, leaving its pid file and socket lock behind.
        let pidText = try String(contentsOfFile: dir + "/data/postmaster.pid", encoding: .utf8)
        let pid = try #require(Int32(pidText.split(separator: "\n").first ?? ""))
        #expect(kill(pid, SIGKILL) == 0)
        for _ in 0..<100 where kill(pid, 0) == 0 { usleep(50_000) }
        #expect(FileManager.default.fileExists(atPath: dir + "/data/postmaster.pid"))
        usleep(500_000)  // let the orphaned backends notice their postmaster died

        let recovered = try localDB("start", dir: dir, port: port)
        #expect(recovered.status == 0)
        #expect(try PostgresConnection(conninfo: recovered.output).query("SELECT 1").scalar == "1")

        #expect(try localDB("stop", dir: dir, port: port).status == 0)
        #expect(try localDB("status", dir: dir, port: port).status != 0)
    }
}
