// swift-tools-version:6.1
import PackageDescription

// Khareetaty: one executable (`khareetaty`) over a few libraries split by concern.
//   Postgres        — the only code that touches libpq (PGconn*/PGresult* never leave it)
//   Geo             — geometry kernel: polygons, point-in-polygon, GeoJSON, projection
//   Spatial         — the only code that touches PROJ and GEOS: CRS transformations, polygon validity
//   Analytics       — statistics kernels: Mann-Kendall, Gi* and its inference, the hot-spot grid; no database
//   Readers         — the only code that touches libcsv, libxml2, zlib, libcrypto, strptime: CSV, XML, KML, input files
//   KhareetatyCore  — config, pipeline stages (ingest → clean → geocode → aggregate → load),
//                     migrations, runs, checks. Everything the CLI does lives here.
//   khareetaty      — thin swift-argument-parser shell over KhareetatyCore
let package = Package(
    name: "khareetaty",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "khareetaty", targets: ["khareetaty"]),
        .library(name: "KhareetatyCore", targets: ["KhareetatyCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System libraries (Debian packages named as providers).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CLibCSV",
            providers: [.apt(["libcsv-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // OpenSSL's libcrypto for SHA-256: already on every machine with libpq; swift-crypto compiled
        // BoringSSL, two thirds of a clean build, for this one digest.
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // The C library's strptime (glibc hides its declaration from Swift's Glibc module).
        .systemLibrary(
            name: "CStrptime"
        ),
        // PROJ: coordinate reference systems (inputs and boundaries in any CRS).
        .systemLibrary(
            name: "CLibProj",
            pkgConfig: "proj",
            providers: [.apt(["libproj-dev"])]
        ),
        // PROJ's geodesic routines (geodesic.h): areas on the WGS 84 ellipsoid.
        .systemLibrary(
            name: "CGeodesic",
            pkgConfig: "proj",
            providers: [.apt(["libproj-dev"])]
        ),
        // GEOS: polygon validity, the same code PostGIS's ST_IsValid runs.
        .systemLibrary(
            name: "CLibGEOS",
            pkgConfig: "geos",
            providers: [.apt(["libgeos-dev"])]
        ),
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),

        .target(
            name: "Postgres",
            dependencies: ["CLibPQ"]
        ),
        .target(
            name: "Geo"
        ),
        // The only importer of PROJ and GEOS: CRS transformations and OGC validity of polygons.
        .target(
            name: "Spatial",
            dependencies: ["Geo", "CLibProj", "CGeodesic", "CLibGEOS"]
        ),
        // The statistics kernels (Mann-Kendall, Gi*, the hot-spot grid, emerging patterns): pure,
        // no database, tested in a target that needs no PostgreSQL.
        .target(
            name: "Analytics",
            dependencies: ["Geo"]
        ),
        // The only importer of the C readers (libcsv, libxml2, zlib, libcrypto, the C library's
        // strptime): CSV, XML feeds, KML, input files and their fingerprints, timestamp formats.
        // C pointers never leave it.
        .target(
            name: "Readers",
            dependencies: ["Geo", "CLibCSV", "CLibXML2", "CZlib", "CLibCrypto", "CStrptime"]
        ),
        // Migrations are .sql files (Sources/KhareetatyCore/Schema/sql), compiled into the binary by
        // this build-tool plugin and its tool: no resource bundle to ship beside the executable.
        .executableTarget(
            name: "embed-sql"
        ),
        .plugin(
            name: "EmbedSQL",
            capability: .buildTool(),
            dependencies: ["embed-sql"]
        ),
        .target(
            name: "KhareetatyCore",
            dependencies: [
                "Postgres", "Geo", "Readers", "Analytics", "Spatial",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            exclude: ["Schema/sql"],
            plugins: ["EmbedSQL"]
        ),
        .executableTarget(
            name: "khareetaty",
            dependencies: [
                "KhareetatyCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Benchmarks of the hand-rolled kernels (`make bench`); not part of the product.
        .executableTarget(
            name: "khareetaty-bench",
            dependencies: ["KhareetatyCore", "Geo", "Analytics"]
        ),
        // Helpers every test target shares (the repository's paths, reference tools); not a product.
        .target(
            name: "TestSupport"
        ),
        // The statistics kernels against their references, without a database.
        .testTarget(
            name: "AnalyticsTests",
            dependencies: ["Analytics", "Geo", "TestSupport"]
        ),
        .testTarget(
            name: "KhareetatyTests",
            dependencies: [
                "KhareetatyCore", "Postgres", "Geo", "Readers", "Analytics", "Spatial", "TestSupport", "CLibCSV",
                .product(name: "Yams", package: "Yams"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
