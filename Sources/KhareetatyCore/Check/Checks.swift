import Postgres

/// `khareetaty check`: everything a run needs, verified up front, one line per check.
public struct Checks {
    public struct Result: Sendable {
        public var name: String
        public var ok: Bool
        public var detail: String
        /// What a failure means for the operator (2: fix the configuration, 75: try again later).
        public var exitCode: ExitCode = .success

        init(name: String, ok: Bool, detail: String) {
            (self.name, self.ok, self.detail) = (name, ok, detail)
            if !ok { exitCode = .usage }
        }

        init(name: String, error: Error) {
            (self.name, ok, detail) = (name, false, String(describing: error))
            exitCode = (error as? ExitCodeProviding)?.exitCode ?? .failure
        }
    }

    /// The exit code for a list of results: a failure that needs a person (2, 65, 66) wins over a
    /// temporary one (75), which wins over an unexplained one (1).
    public static func exitCode(of results: [Result]) -> ExitCode {
        let codes = results.filter { !$0.ok }.map(\.exitCode)
        if let person = codes.first(where: { ![.temporaryFailure, .failure, .success].contains($0) }) { return person }
        if codes.contains(.temporaryFailure) { return .temporaryFailure }
        return codes.isEmpty ? .success : .failure
    }

    public let settings: Settings
    public let configFile: String?

    public init(settings: Settings, configFile: String?) {
        self.settings = settings
        self.configFile = configFile
    }

    public func run() -> [Result] {
        var results = [Result(name: "config", ok: true, detail: configFile.map { "valid (\($0))" } ?? "valid (defaults and environment; no config file)")]

        do {
            let pipeline = try PipelineDefinition.load(path: settings.pipelinePath)
            results.append(Result(name: "pipeline", ok: true, detail: "\(pipeline.name) (\(pipeline.path)), \(pipeline.inputs.count) input(s)"))
            do {
                let layer = try DistrictLayer.load(pipeline.boundaries)
                let withGovernorate = layer.districts.filter { $0.governorateCode != nil }.count
                results.append(Result(name: "boundaries", ok: true,
                                      detail: "\(layer.districts.count) districts, \(withGovernorate) with a governorate (\(pipeline.boundaries.districtsFile))"))
                // Reported, not fatal: geocoding stays deterministic (first area in file order wins).
                let report = BoundaryReport(layer: layer)
                results.append(Result(name: "geometry", ok: true, detail: (report.isClean ? "" : "WARNING ") + report.summary))
            } catch {
                results.append(Result(name: "boundaries", error: error))
            }
        } catch {
            results.append(Result(name: "pipeline", error: error))
        }

        let db: PostgresConnection
        do {
            db = try Database.connect(settings)
            let version = try db.query("SHOW server_version").scalar ?? "?"
            results.append(Result(name: "database", ok: true, detail: "\(db.endpoint), PostgreSQL \(version)"))
        } catch {
            results.append(Result(name: "database", error: error))
            return results
        }

        do {
            try Migrator(connection: db, schema: settings.schema).requireCurrent()
            results.append(Result(name: "schema", ok: true, detail: "\(settings.schema) at version \(Migration.latestVersion)"))
        } catch {
            results.append(Result(name: "schema", error: error))
            return results
        }

        let distributed: Bool
        do {
            distributed = try Distribution.isDistributed(db: db, schema: settings.schema)
        } catch {
            results.append(Result(name: "cluster", error: error))
            return results
        }
        do {
            results.append(try privileges(db, distributed: distributed))
        } catch {
            results.append(Result(name: "privileges", error: error))
        }
        // A schema configured for Citus but not distributed yet fails; a distributed schema serves any setting.
        if settings.distribution == .citus && !distributed {
            results.append(Result(name: "cluster", ok: false, detail: "database.distribution is citus but schema \(settings.schema) is not distributed: run `khareetaty migrate` on the Citus coordinator"))
        } else {
            do {
                results.append(Result(name: "cluster", ok: true, detail: try Distribution.state(db: db, schema: settings.schema)))
            } catch {
                results.append(Result(name: "cluster", error: error))
            }
        }
        // Informational: GIS layers are optional, so their absence is no failure.
        do {
            results.append(Result(name: "gis", ok: true, detail: try GeometryLayers.state(db: db, schema: settings.schema).description))
        } catch {
            results.append(Result(name: "gis", error: error))
        }
        return results
    }

    /// What a run does to each table, checked with has_table_privilege, the staging functions it
    /// calls (migration 13: the loader role has no DDL rights of its own; on Citus the permanent
    /// staging table instead), plus TEMP.
    private func privileges(_ db: PostgresConnection, distributed: Bool) throws -> Result {
        // On Citus the load stages into a permanent table instead of the definer functions' one.
        let needs: [(String, String)] = (distributed ? [("incidents_stage", "SELECT,INSERT,DELETE,TRUNCATE")] : []) + [
            ("incidents", "SELECT,INSERT,DELETE"), ("incident_rejects", "INSERT"), ("district_daily", "SELECT,INSERT,DELETE"),
            ("district_monthly", "SELECT,INSERT,DELETE"),
            ("districts", "SELECT,INSERT,DELETE"), ("pipeline_runs", "SELECT,INSERT,UPDATE"), ("district_trends", "SELECT,INSERT,DELETE"),
            ("hotspot_grids", "INSERT,DELETE"), ("hotspot_cells", "INSERT,DELETE"), ("emerging_hotspots", "INSERT,DELETE"),
            ("backfill_chunks", "SELECT,INSERT,UPDATE"),
        ]
        var missing: [String] = []
        for (table, privileges) in needs {
            for privilege in privileges.split(separator: ",") {
                let ok = try db.query("SELECT has_table_privilege($1, $2)", [quoteIdentifier(settings.schema) + "." + table, String(privilege)]).scalar
                if ok != "t" { missing.append("\(privilege) on \(table)") }
            }
        }
        for function in distributed ? [] : ["stage_begin()", "stage_month(date)", "attach_month(date)", "stage_end()"] {
            let ok = try db.query("SELECT has_function_privilege($1, 'EXECUTE')", [quoteIdentifier(settings.schema) + "." + function]).scalar
            if ok != "t" { missing.append("EXECUTE on \(function)") }
        }
        if try db.query("SELECT has_database_privilege(current_database(), 'TEMPORARY')").scalar != "t" {
            missing.append("TEMPORARY on the database")
        }
        return missing.isEmpty
            ? Result(name: "privileges", ok: true, detail: "\(db.endpoint) can load into \(settings.schema)")
            : Result(name: "privileges", ok: false, detail: "missing: " + missing.joined(separator: ", "))
    }
}
