/// A configuration problem found before any work starts. Always exit code 2.
/// Names the key, where the value came from, the value (redacted if secret) and what is allowed.
public struct ConfigError: ExitCodeProviding, CustomStringConvertible, Sendable {
    public var key: String
    public var value: String?
    public var source: String
    public var problem: String

    public init(key: String, value: String?, source: String, problem: String) {
        self.key = key
        self.value = value
        self.source = source
        self.problem = problem
    }

    public var exitCode: ExitCode { .usage }

    public var description: String {
        var text = "configuration error: \(key)"
        if let value { text += " = \(quoted(value))" }
        text += " (from \(source)): \(problem)"
        return text
    }

    private func quoted(_ value: String) -> String { "\"" + value + "\"" }
}
