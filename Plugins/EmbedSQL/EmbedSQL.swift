import Foundation
import PackagePlugin

/// Compiles the target's `Schema/sql/*.sql` files into Swift (`EmbeddedSQL.files`) with the
/// `embed-sql` tool: migrations are reviewed and edited as SQL, and shipped inside the binary.
@main
struct EmbedSQL: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = target.directoryURL.appendingPathComponent("Schema").appendingPathComponent("sql")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }.sorted().map { directory.appendingPathComponent($0) }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedSQL.swift")
        return [.buildCommand(displayName: "Embedding \(files.count) SQL files", executable: try context.tool(named: "embed-sql").url,
                              arguments: [output.path] + files.map(\.path), inputFiles: files, outputFiles: [output])]
    }
}
