// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "Cella",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "cella-runtime", targets: ["cella-runtime"]),
    .library(name: "CellaRuntimeCore", targets: ["CellaRuntimeCore"]),
    .library(name: "CellaOCI", targets: ["CellaOCI"]),
  ],
  dependencies: [],
  targets: [
    .target(name: "CShims", path: "Sources/CShims"),
    .systemLibrary(
      name: "CSeccomp", path: "Sources/CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
    .systemLibrary(name: "CCap", path: "Sources/CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
    .target(name: "CellaErrors", dependencies: []),
    .target(name: "CellaSys", dependencies: ["CShims", "CellaErrors"]),
    .target(name: "CellaOCI", dependencies: ["CellaErrors"]),
    .target(name: "CellaSecurity", dependencies: ["CellaErrors", "CellaSys", "CellaOCI", "CSeccomp", "CCap"]),
    .target(name: "CellaCgroups", dependencies: ["CellaErrors", "CellaSys", "CellaOCI"]),
    // What any thread may call: specs, plans, records, and the verbs that only signal, read or remove.
    .target(
      name: "CellaRuntimeCore",
      dependencies: ["CellaErrors", "CellaSys", "CellaOCI", "CellaSecurity", "CellaCgroups"]),
    // What forks and changes the calling process: only single-threaded executables link it.
    .target(
      name: "CellaEngine",
      dependencies: ["CellaRuntimeCore", "CellaErrors", "CellaSys", "CellaOCI", "CellaSecurity", "CellaCgroups"]),
    .executableTarget(
      name: "cella-runtime",
      dependencies: ["CellaErrors", "CellaRuntimeCore", "CellaEngine"]
    ),
    // The fuzz target (Scripts/fuzz.sh); a plain build runs it over files given as arguments.
    .executableTarget(
      name: "cella-fuzz", dependencies: ["CellaRuntimeCore", "CellaEngine", "CellaCgroups", "CellaOCI", "CellaSys"]),
    .testTarget(name: "CellaCgroupsTests", dependencies: ["CellaCgroups", "CellaOCI", "CellaSys"]),
    .testTarget(name: "CellaOCITests", dependencies: ["CellaOCI"]),
    .testTarget(name: "CellaRuntimeTests", dependencies: ["CellaRuntimeCore", "CellaEngine", "CellaSys"]),
    .testTarget(name: "CellaRuntimeCLITests", dependencies: ["cella-runtime", "CellaErrors"]),
    .testTarget(name: "CellaSecurityTests", dependencies: ["CellaSecurity"]),
    .testTarget(name: "CellaSysTests", dependencies: ["CellaSys"]),
    .testTarget(name: "IntegrationTests", dependencies: ["CellaOCI", "CellaRuntimeCore"]),
  ]
)
