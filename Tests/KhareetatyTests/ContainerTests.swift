import Foundation
import Testing
import TestSupport
import Yams

/// The container files read: the Dockerfile's stages and that its runtime base installs exactly
/// the Debian packages that provide the shared libraries the built binary links; the compose
/// file's shape. (`make test-container` builds and runs the image itself.)
@Suite struct ContainerTests {
    struct Stage { var name: String; var base: String; var lines: [String] }

    func dockerfileStages() throws -> [Stage] {
        let text = try String(contentsOfFile: repoPath("Dockerfile"), encoding: .utf8)
        // Join continuation lines, drop comments.
        let logical = text.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n").map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
        var stages: [Stage] = []
        for line in logical {
            let words = line.split(separator: " ").map(String.init)
            if words.first == "FROM" {
                let name = words.count >= 4 && words[2].uppercased() == "AS" ? words[3] : ""
                stages.append(Stage(name: name, base: words[1], lines: []))
            } else if !stages.isEmpty {
                stages[stages.count - 1].lines.append(line)
            }
        }
        return stages
    }

    func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func dockerfileStagesAndRuntimePackagesMatchTheBinary() throws {
        let stages = try dockerfileStages()
        #expect(stages.map(\.name) == ["build", "runtime-base", "runtime-prebuilt", "runtime"])
        // Base images are build arguments whose defaults are fully qualified official images.
        let text = try String(contentsOfFile: repoPath("Dockerfile"), encoding: .utf8)
        #expect(stages[0].base == "${BUILD_IMAGE}" && text.contains("ARG BUILD_IMAGE=docker.io/library/swift:6"))
        #expect(stages[1].base == "${RUNTIME_IMAGE}" && text.contains("ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim"))
        #expect(stages[2].base == "runtime-base" && stages[3].base == "runtime-base")
        let build = stages[0].lines.joined(separator: "\n")
        let runtime = stages[1].lines.joined(separator: "\n")

        let installLine = try #require(stages[1].lines.first { $0.contains("apt-get install") })
        let installed = Set(installLine.split(separator: " ").map(String.init).filter { !$0.hasPrefix("-") && $0 != "&&" })

        // What the binary needs at run time: its NEEDED entries, by the Debian package owning each.
        let needed = try run("/usr/bin/readelf", ["-d", repoPath(".build/debug/khareetaty")])
            .split(separator: "\n").compactMap { line -> String? in
                guard line.contains("(NEEDED)"), let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
                return String(line[line.index(after: open)..<close])
            }
        #expect(needed.contains("libpq.so.5"))
        let swiftRuntime = needed.filter { $0.hasPrefix("libswift") || $0.hasPrefix("libFoundation") || $0.hasPrefix("libdispatch") || $0.hasPrefix("libBlocksRuntime") }
        if !swiftRuntime.isEmpty { #expect(build.contains("--static-swift-stdlib"), "the Swift runtime must be linked statically") }

        let baseImage: Set<String> = ["libc6", "libgcc-s1", "libstdc++6", "zlib1g"]  // present in debian:bookworm-slim
        var required: Set<String> = []
        for library in needed where !swiftRuntime.contains(library) {
            let owner = try run("/usr/bin/dpkg", ["-S", "*/\(library)"]).split(separator: ":").first.map(String.init) ?? ""
            #expect(!owner.isEmpty, "no Debian package provides \(library)")
            if !baseImage.contains(owner) { required.insert(owner) }
        }
        // libssl3: libcrypto, for SHA-256; libproj25 and libgeos-c1v5: CRSs and boundary validity.
        #expect(required == ["libpq5", "libcsv3", "libxml2", "libssl3", "libproj25", "libgeos-c1v5"])
        #expect(required.isSubset(of: installed), "runtime stage installs \(installed.sorted()), binary needs \(required.sorted())")

        #expect(runtime.contains("USER khareetaty"))
        #expect(runtime.contains("useradd --system"))
        // A job, not a server: no health check; the default command harms nothing.
        #expect(!stages.flatMap(\.lines).contains { $0.hasPrefix("HEALTHCHECK") } && runtime.contains("CMD [\"--help\"]"))
        #expect(stages[3].lines.contains { $0.contains("COPY --from=build /out/khareetaty") })
        #expect(stages[2].lines.contains { $0.hasPrefix("COPY khareetaty ") })
        // The default target (the last stage) is the one built on the Swift image.
        #expect(stages.last?.name == "runtime")
    }

    @Test func composeMigratesAsItsOwnRoleThenRunsAsTheLoaderWithVolumes() throws {
        let text = try String(contentsOfFile: repoPath("docker-compose.yml"), encoding: .utf8)
        let root = try #require(try Yams.load(yaml: text) as? [String: Any])
        let services = try #require(root["services"] as? [String: Any])
        let postgres = try #require(services["postgres"] as? [String: Any])
        let migrate = try #require(services["migrate"] as? [String: Any])
        let nightly = try #require(services["nightly"] as? [String: Any])

        #expect((postgres["image"] as? String)?.hasPrefix("docker.io/library/postgres:15") == true)
        let health = try #require(postgres["healthcheck"] as? [String: Any])
        #expect("\(health["test"] ?? "")".contains("pg_isready"))
        // The roles script the test tier runs too is what the database starts with.
        let mounts = postgres["volumes"] as? [String] ?? []
        #expect(mounts.contains { $0.hasPrefix("./deploy/compose/roles.sql:") } && mounts.contains { $0.contains("docker-entrypoint-initdb.d") })
        let volumes = try #require(root["volumes"] as? [String: Any])
        #expect(volumes.keys.contains { name in mounts.contains { $0.hasPrefix(name + ":") } }, "postgres data must live on a named volume")

        #expect((migrate["depends_on"] as? [String: Any])?["postgres"].flatMap { ($0 as? [String: Any])?["condition"] as? String } == "service_healthy")
        #expect((nightly["depends_on"] as? [String: Any])?["migrate"].flatMap { ($0 as? [String: Any])?["condition"] as? String } == "service_completed_successfully")
        #expect(migrate["command"] as? [String] == ["migrate"])
        #expect((nightly["command"] as? [String])?.first == "run")
        let nightlyMounts = nightly["volumes"] as? [String] ?? []
        for folder in ["/data/inbox", "/data/reports", "/data/metrics"] {
            #expect(nightlyMounts.contains { $0.hasSuffix(":" + folder) }, "\(folder) is not mounted")
        }

        // Each job logs in as its own role, never the superuser, and no password is in a URL
        // (it would reach logs); PGPASSWORD carries it.
        for (name, role) in [("migrate", "khareetaty_migrate"), ("nightly", "khareetaty_nightly"), ("report", "khareetaty_analyst")] {
            let service = try #require(services[name] as? [String: Any])
            let environment = service["environment"] as? [String: Any] ?? [:]
            let url = environment["DATABASE_URL"] as? String ?? ""
            let userinfo = url.hasPrefix("postgresql://") ? url.dropFirst("postgresql://".count).split(separator: "@").first ?? "" : ""
            #expect(userinfo == role[...], "\(name) connects as \(userinfo), not \(role)")
            #expect(environment["PGPASSWORD"] != nil)
        }
    }
}
