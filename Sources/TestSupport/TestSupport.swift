import Foundation

// What every test target needs and none of the product: the repository, reference tools, errors.

/// The repository root (tests read fixtures and run the built binary from it).
public let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

public func repoPath(_ relative: String) -> String { repoRoot.appendingPathComponent(relative).path }

/// The test could not be set up (a missing tool, database or reference environment): a failure, never a skip.
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Runs a command and returns its stdout (for reference tools: gzip, python3).
public func shell(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    let inPipe = Pipe()
    if input != nil { process.standardInput = inPipe }
    try process.run()
    if let input {
        inPipe.fileHandleForWriting.write(input)
        try inPipe.fileHandleForWriting.close()
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw TestSetupError(description: "\(executable) \(arguments) exited \(process.terminationStatus)") }
    return data
}

/// Runs a Python snippet in the reference environment (`scripts/pyref.sh`, run by `make test`),
/// feeding it JSON on stdin and reading JSON from stdout.
public func pyref(_ script: String, input: Any) throws -> Any {
    let python = repoPath(".build/pyref/bin/python")
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw TestSetupError(description: "no reference environment at \(python): run scripts/pyref.sh (make test does)")
    }
    let data = try shell(python, ["-c", script], input: try JSONSerialization.data(withJSONObject: input))
    return try JSONSerialization.jsonObject(with: data)
}
