import ArgumentParser
import Foundation
import KhareetatyCore
import Logging

/// Exit codes, shared by every subcommand's help.
let exitCodesHelp = """
    EXIT STATUS
      0   success
      1   failure
      2   usage or configuration error (bad flag, unknown config key, invalid value; the database
          refused the login: wrong password, no such role or database — never retried)
      65  data error (malformed input, too many rejected rows)
      66  an input is missing, unreadable, or not a regular file (a pipe, a device)
      75  temporary failure (database unreachable, lock held): retry later
      130, 143  stopped by SIGINT / SIGTERM: rolled back, the ledger row says cancelled
    """

@main
struct KhareetatyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "khareetaty",
        abstract: "Load police incident exports into district hotspot and trend tables in PostgreSQL.",
        discussion: """
            Khareetaty ("my map") is a batch ETL pipeline: ingest → clean → geocode-to-district → aggregate → load.
            A run lands whole in one transaction or not at all, and re-running it changes nothing.

            CONFIGURATION
              Settings come from built-in defaults, then the config file (--config, $KHAREETATY_CONFIG, or
              config/khareetaty.yaml), then KHAREETATY_<KEY> environment variables. The database is
              --database URL, else $KHAREETATY_DATABASE_URL, else $DATABASE_URL, else database.url, else
              libpq's own PG* variables and service file. `khareetaty config show` prints the result.

            \(exitCodesHelp)
            """,
        version: Khareetaty.version,
        subcommands: [Run.self, Backfill.self, Replay.self, Runs.self, Report.self, Migrate.self, Check.self, Config.self, Dictionary.self]
    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as ExitCodeProviding {
            // One line, and in the log's own format once logging is set up (JSON for cron and systemd).
            let message = String(describing: error).replacingOccurrences(of: "\n", with: " ")
            if LogSetup.isBootstrapped {
                Logger(label: "khareetaty").critical("\(message)", metadata: ["exit_code": .stringConvertible(Int(error.exitCode.rawValue))])
            } else {
                FileHandle.standardError.write(Data("khareetaty: \(message)\n".utf8))
            }
            Foundation.exit(error.exitCode.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            // ArgumentParser's own usage errors (EX_USAGE 64) are our usage error, 2.
            FileHandle.standardError.write(Data("khareetaty: \(fullMessage(for: error))\n".utf8))
            Foundation.exit(code == .validationFailure ? ExitCode.usage.rawValue : code.rawValue)
        }
    }
}

typealias ExitCode = KhareetatyCore.ExitCode

/// Flags every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Config file (YAML).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("PostgreSQL connection string; overrides every other source.", valueName: "url"))
    var database: String?

    /// Loads and validates the settings (exit 2 on any problem) and sets up logging.
    func settings() throws -> Settings {
        let settings = try loader().load()
        LogSetup.bootstrap(settings)
        return settings
    }

    func loader() -> SettingsLoader {
        SettingsLoader(configPath: config, databaseFlag: database)
    }
}

/// `--pipeline FILE`, shared by the commands that work with a pipeline (run, backfill, report).
struct PipelineOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Pipeline file (inputs, columns, boundaries, rules); default: the `pipeline` setting.", valueName: "file"))
    var pipeline: String?

    /// The settings (with the pipeline this flag names) and the pipeline, validated (exit 2 on any problem).
    func load(_ global: GlobalOptions) throws -> (Settings, PipelineDefinition) {
        var settings = try global.settings()
        if let pipeline { settings.pipelinePath = pipeline }
        return (settings, try PipelineDefinition.load(path: settings.pipelinePath))
    }

    /// The same, but without `--pipeline` the pipeline recorded on the ledger by the latest
    /// succeeded run of these dates (`RecordedPipeline`): for commands that read data a run made.
    func loadRecorded(_ global: GlobalOptions, from: String?, to: String?) throws -> (Settings, PipelineDefinition) {
        guard pipeline == nil else { return try load(global) }
        let settings = RecordedPipeline.choose(settings: try global.settings(), from: from, to: to, logger: Logger(label: "khareetaty"))
        return (settings, try PipelineDefinition.load(path: settings.pipelinePath))
    }
}
