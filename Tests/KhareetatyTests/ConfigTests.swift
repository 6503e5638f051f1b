import Foundation
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

@Suite struct ConfigTests {
    func load(file: String? = nil, env: [String: String] = [:], flag: String? = nil) throws -> Settings {
        let path = try file.map { try temporaryFile("khareetaty.yaml", contents: $0) }
        return try SettingsLoader(environment: env, configPath: path, databaseFlag: flag, defaultConfigPath: nil).load()
    }

    func configError(file: String? = nil, env: [String: String] = [:], flag: String? = nil) throws -> ConfigError {
        do {
            _ = try load(file: file, env: env, flag: flag)
        } catch let error as ConfigError {
            return error
        }
        Issue.record("expected a ConfigError")
        throw TestSetupError(description: "no error")
    }

    @Test func defaultsWithoutFileOrEnvironment() throws {
        let settings = try load()
        #expect(settings.schema == "khareetaty")
        #expect(settings.batchSize == 10_000)
        #expect(settings.databaseURL == "")
        #expect(settings.sources["database.schema"] == "default")
    }

    @Test func fileValuesCarryTheirLine() throws {
        let settings = try load(file: "database:\n  schema: nightly_v2\nbatch_size: 20000\n")
        #expect(settings.schema == "nightly_v2")
        #expect(settings.batchSize == 20_000)
        #expect(settings.sources["database.schema"]?.hasSuffix("khareetaty.yaml:2") == true)
        #expect(settings.sources["batch_size"]?.hasSuffix("khareetaty.yaml:3") == true)
    }

    @Test func unknownKeyNamesKeyAndLine() throws {
        let error = try configError(file: "database:\n  schema: x\n  shcema: y\n")
        #expect(error.key == "database.shcema")
        #expect(error.source.hasSuffix(":3"))
        #expect(error.exitCode == .usage)
        #expect(error.description.contains("unknown key"))
    }

    @Test(arguments: [
        ("batch_size: lots\n", "batch_size", "lots"),
        ("batch_size: 10\n", "batch_size", "10"),
        ("database:\n  schema: Bad-Name\n", "database.schema", "Bad-Name"),
        ("log:\n  level: loud\n", "log.level", "loud"),
        ("database:\n  connect_timeout_s: 0\n", "database.connect_timeout_s", "0"),
    ])
    func wrongValueNamesKeyValueAndAllowed(file: String, key: String, value: String) throws {
        let error = try configError(file: file)
        #expect(error.key == key)
        #expect(error.value == value)
        #expect(error.description.contains("allowed:"))
    }

    @Test func listWhereValueExpectedIsAnError() throws {
        let error = try configError(file: "pipeline:\n  - a\n  - b\n")
        #expect(error.key == "pipeline")
        #expect(error.problem.contains("list"))
    }

    @Test func environmentOverridesFile() throws {
        let settings = try load(file: "database:\n  schema: from_file\n", env: ["KHAREETATY_DATABASE_SCHEMA": "from_env"])
        #expect(settings.schema == "from_env")
        #expect(settings.sources["database.schema"] == "env KHAREETATY_DATABASE_SCHEMA")
    }

    @Test func unknownEnvironmentVariableIsAnError() throws {
        let error = try configError(env: ["KHAREETATY_BATCHSIZE": "1000"])
        #expect(error.key == "KHAREETATY_BATCHSIZE")
        #expect(error.problem.contains("KHAREETATY_BATCH_SIZE"))
    }

    @Test func reservedScriptVariablesAreIgnored() throws {
        _ = try load(env: ["KHAREETATY_LOCALDB_PORT": "1", "KHAREETATY_TEST_DATABASE_URL": "x"])
    }

    @Test func databasePrecedence() throws {
        let file = "database:\n  url: postgresql:///from_file\n"
        #expect(try load(file: file).databaseURL == "postgresql:///from_file")
        #expect(try load(file: file, env: ["DATABASE_URL": "postgresql:///generic"]).databaseURL == "postgresql:///generic")
        let both = ["DATABASE_URL": "postgresql:///generic", "KHAREETATY_DATABASE_URL": "postgresql:///specific"]
        #expect(try load(file: file, env: both).databaseURL == "postgresql:///specific")
        let flagged = try load(file: file, env: both, flag: "postgresql:///flag")
        #expect(flagged.databaseURL == "postgresql:///flag")
        #expect(flagged.sources["database.url"] == "--database")
    }

    @Test func malformedURLIsRedactedInTheError() throws {
        let error = try configError(flag: "postgresql://loader:s3cr3t@host:notaport/db")
        #expect(error.key == "database.url")
        #expect(!error.description.contains("s3cr3t"))
        #expect(error.description.contains(ConnectionString.notShown))
    }

    @Test func renderedSettingsNeverShowSecrets() throws {
        let settings = try load(flag: "postgresql://loader:s3cr3t@db.example:5432/kw?sslmode=require")
        let text = settings.rendered(environment: ["PGPASSWORD": "hunter2", "PGHOST": "db.example"])
        #expect(!text.contains("s3cr3t"))
        #expect(!text.contains("hunter2"))
        #expect(text.contains("user=loader password=*** dbname=kw host=db.example port=5432"))
        #expect(text.contains("PGPASSWORD=***"))
    }

    /// A Service named khareetaty-db makes Kubernetes inject KHAREETATY_DB_*: not settings, not fatal.
    @Test func kubernetesServiceLinkVariablesArePassedOver() throws {
        let links = ["KHAREETATY_DB_SERVICE_HOST": "10.0.0.7", "KHAREETATY_DB_SERVICE_PORT": "5432", "KHAREETATY_DB_SERVICE_PORT_POSTGRES": "5432",
                     "KHAREETATY_DB_PORT": "tcp://10.0.0.7:5432", "KHAREETATY_DB_PORT_5432_TCP": "tcp://10.0.0.7:5432",
                     "KHAREETATY_DB_PORT_5432_TCP_PROTO": "tcp", "KHAREETATY_DB_PORT_5432_TCP_PORT": "5432", "KHAREETATY_DB_PORT_5432_TCP_ADDR": "10.0.0.7"]
        #expect(try load(env: links).schema == "khareetaty")
        // A typo of a real key is still fatal, even one that ends like a port.
        #expect(try configError(env: ["KHAREETATY_DATABASE_PORT": "5432"]).key == "KHAREETATY_DATABASE_PORT")
        #expect(try configError(env: ["KHAREETATY_DATABSE_SCHEMA": "x"]).key == "KHAREETATY_DATABSE_SCHEMA")
    }

    @Test func shippedConfigFileIsValid() throws {
        let settings = try SettingsLoader(environment: [:], configPath: repoPath("config/khareetaty.yaml")).load()
        #expect(settings.pipelinePath == "pipelines/nightly.yaml")
    }
}

@Suite struct ConnectionStringTests {
    /// Every form the operators' review found printed verbatim, and the plain ones: the secret never
    /// shows, and what is shown is libpq's own reading of the rest (parsed back, it is the same).
    @Test(arguments: [
        "postgresql://u:SECRETX@h/db",
        "postgres://u:p%40SECRETX@h:5432/db?sslmode=verify-full",
        "postgresql://u:pa?SECRETX@h/db",
        "postgresql:///db?host=/tmp&password=SECRETX&user=u",
        "host=h user=u password=SECRETX dbname=d",
        "host=h password = SECRETX dbname=d",
        "host=h password=ab\\ SECRETX dbname=d",
        "host=h password='p w\\'SECRETX' dbname=d",
        "host=h sslpassword=SECRETX dbname=d",
        "dbname='host=h password=SECRETX'",
        "postgresql://loader:pa/SECRETX@host/db",
        "postgresql://loader:12/34SECRETX@host/db",
        "postgresql://u:SECRETX@h:notaport/db",
        "host=h password=SECRETX port",
    ])
    func redactsEveryForm(input: String) {
        let shown = ConnectionString.redacted(input)
        #expect(!shown.contains("SECRETX"), "\(input) → \(shown)")
        guard shown != ConnectionString.notShown else { return }
        let given = ConnectionString.parsedOptions(input)!.filter { !["password", "sslpassword", "dbname"].contains($0.keyword) }
        let back = ConnectionString.parsedOptions(shown)!.filter { !["password", "sslpassword", "dbname"].contains($0.keyword) }
        #expect(given.map { "\($0.keyword)=\($0.value)" } == back.map { "\($0.keyword)=\($0.value)" })
    }

    @Test func plainStringsStayReadable() {
        #expect(ConnectionString.redacted("postgresql://u@h/db") == "user=u dbname=db host=h")
        #expect(ConnectionString.redacted("postgresql://u:pw@h/db") == "user=u password=*** dbname=db host=h")
        #expect(ConnectionString.redacted("host=h application_name='a b'") == "host=h application_name='a b'")
        #expect(ConnectionString.redacted("") == "")
    }

    @Test func libpqValidatesSyntax() {
        #expect(ConnectionString.parseError("postgresql://h/db") == nil)
        #expect(ConnectionString.parseError("host=h port") != nil)
        #expect(ConnectionString.parseError("postgresql://h:port/db") != nil)
    }
}

@Suite struct AggregateTablesTests {
    func pipeline(_ tables: String) throws -> PipelineDefinition {
        try PipelineDefinition.load(path: try temporaryFile("p.yaml", contents: """
            name: t
            inputs: [x.csv]
            columns: {incident_id: id, occurred_at: at, category: what}
            boundaries: {districts: b.geojson}
            aggregate:
              tables: \(tables)

            """))
    }

    @Test func listsTheDerivedTables() throws {
        #expect(try pipeline("[]").aggregate.tables.isEmpty)
        #expect(try pipeline("[trends, emerging]").aggregate.tables == [.trends, .emerging])
        #expect(AggregateSettings().tables == Set(AggregateSettings.Table.allCases))
    }

    @Test func anUnknownTableNamesTheKeyAndTheChoices() throws {
        do {
            _ = try pipeline("[trends, heatmap]")
            Issue.record("accepted an unknown table")
        } catch let error as ConfigError {
            #expect(error.key == "aggregate.tables")
            #expect(error.description.contains("heatmap") && error.description.contains("emerging"))
        }
    }

    @Test func theBackfillCadenceAndTheCellLimitAreReadAndCheckedWithTheirChoices() throws {
        #expect(try pipeline("[]").aggregate.backfillGrids == .monthly)
        #expect(try pipeline("[]\n  backfill_grids: weekly\n  hotspot_max_cells: 40000").aggregate.backfillGrids == .weekly)
        #expect(try pipeline("[]\n  hotspot_max_cells: 40000").aggregate.hotspot.maxCells == 40_000)
        for (line, key, allowed) in [("backfill_grids: hourly", "aggregate.backfill_grids", "daily, weekly, monthly"),
                                     ("hotspot_max_cells: 12", "aggregate.hotspot_max_cells", "1000 to 20000000")] {
            do {
                _ = try pipeline("[]\n  " + line)
                Issue.record("accepted \(line)")
            } catch let error as ConfigError {
                #expect(error.key == key && error.description.contains(allowed), "\(error)")
            }
        }
    }

    @Test func dailyCountsOnlyWhenTheListIsEmpty() throws {
        try withScratchSchema { db, schema in
            var runner = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24")
            runner.pipeline.aggregate.tables = []
            let summary = try runner.run()
            let s = quoteIdentifier(schema)
            #expect(summary.rowsLoaded > 0 && summary.trendRows == 0 && summary.hotspotCells == 0)
            #expect(try db.query("SELECT count(*) FROM \(s).district_daily").scalar != "0")
            #expect(try db.query("SELECT (SELECT count(*) FROM \(s).district_trends) + (SELECT count(*) FROM \(s).hotspot_cells) + (SELECT count(*) FROM \(s).emerging_hotspots)").scalar == "0")
        }
    }
}
