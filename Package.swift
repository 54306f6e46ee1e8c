// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "Cella",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "cella-runtime", targets: ["cella-runtime"]),
    .library(name: "CellaRuntimeCore", targets: ["CellaRuntimeCore"]),
    .library(name: "CellaOCI", targets: ["CellaOCI"]),
    .executable(name: "cella", targets: ["cella"]),
    .executable(name: "cella-keeper", targets: ["cella-keeper"]),
    .executable(name: "cella-nic", targets: ["cella-nic"]),
    .executable(name: "cella-daemon", targets: ["cella-daemon"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
  ],
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
    // Bridges, veths, taps, namespaces, addresses and routes over rtnetlink; IPAM; nftables rule sets
    // (issue 10). Knows nothing of guests.
    .target(name: "CellaNet", dependencies: ["CellaErrors", "CellaSys", "CShims"]),
    // QEMU's command line from a VM description, QMP, the accelerator probe; knows nothing of the store.
    .target(name: "CellaVM", dependencies: ["CellaErrors", "CellaSys", "CellaNet", "CShims"]),
    // The manager's wire model: requests, answers, error envelope, stream frames, paths (no I/O).
    .target(name: "CellaAPI", dependencies: ["CellaErrors"]),
    // Guests, images, profiles, config keys, the store, keepers, supervision: what the daemon does.
    .target(
      name: "CellaHost",
      dependencies: [
        "CellaAPI", "CellaErrors", "CellaSys", "CShims", "CellaOCI", "CellaRuntimeCore", "CellaCgroups", "CellaNet",
        "CellaVM",
        .product(name: "Yams", package: "Yams"),
      ]),
    // The REST server on the unix socket: routes every call to CellaHost, upgrades for streams.
    .target(
      name: "CellaDaemon",
      dependencies: [
        "CellaAPI", "CellaHost", "CellaErrors", "CellaSys",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ]),
    // The blocking HTTP/1.1 client over the unix socket the CLI (and the tests) use.
    .target(name: "CellaClient", dependencies: ["CellaAPI", "CellaErrors", "CellaSys"]),
    .executableTarget(
      name: "cella",
      dependencies: [
        "CellaAPI", "CellaClient", "CellaErrors", "CellaSys",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // `cella daemon` execs it: the daemon's code stays out of the CLI (its start-up time grows with
    // every protocol conformance linked in; Docs/architecture.md).
    .executableTarget(
      name: "cella-daemon", dependencies: ["CellaAPI", "CellaDaemon", "CellaHost", "CellaErrors", "CellaSys"]),
    // The per-guest parent, subreaper and console holder; small on purpose (no Foundation).
    // Release builds link it as a static executable: ~200 of them run at once, and a dynamic Swift
    // binary costs ~4x the memory per process (Benchmarks/keeper-memory.sh).
    .executableTarget(
      name: "cella-keeper", dependencies: ["CellaSys", "CellaAPI", "CShims"],
      linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]),
    // The createRuntime hook that makes a guest's NICs; static too (it runs at every start).
    .executableTarget(
      name: "cella-nic", dependencies: ["CellaNet", "CellaSys"],
      linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]),
    // The guest agent: PID 1 of a VM's initramfs (mounts, modules, the root, the guest's command) and the exec
    // server on virtio-serial ports; `cella-agent exec` is its host-side client. Always static: the guest has no
    // Swift or glibc shared libraries.
    .target(name: "CAgentEarly", path: "Sources/CAgentEarly"),
    .executableTarget(
      name: "cella-agent", dependencies: ["CAgentEarly", "CellaVM", "CellaNet", "CellaSys", "CShims"],
      linkerSettings: [.unsafeFlags(["-static-executable"])]),
    .testTarget(name: "CellaHostTests", dependencies: ["CellaHost", "CellaAPI", "CellaNet", "CellaVM"]),
    .testTarget(name: "CellaAPITests", dependencies: ["CellaAPI"]),
    .testTarget(name: "CellaNetTests", dependencies: ["CellaNet", "CellaSys"]),
    .testTarget(name: "CellaVMTests", dependencies: ["CellaVM", "CellaSys"]),
    .testTarget(
      name: "CellaDaemonTests", dependencies: ["CellaDaemon", "CellaClient", "CellaAPI", "CellaErrors", "CellaSys"]),
    .testTarget(name: "CellaCgroupsTests", dependencies: ["CellaCgroups", "CellaOCI", "CellaSys"]),
    .testTarget(name: "CellaOCITests", dependencies: ["CellaOCI"]),
    .testTarget(name: "CellaRuntimeTests", dependencies: ["CellaRuntimeCore", "CellaEngine", "CellaSys"]),
    .testTarget(name: "CellaRuntimeCLITests", dependencies: ["cella-runtime", "CellaErrors"]),
    .testTarget(name: "CellaSecurityTests", dependencies: ["CellaSecurity"]),
    .testTarget(name: "CellaSysTests", dependencies: ["CellaSys"]),
    .testTarget(
      name: "IntegrationTests",
      dependencies: [
        "CellaOCI", "CellaRuntimeCore", "CellaAPI", "CellaClient", "CellaNet", "CellaVM", "CellaSys", "CShims",
        "CellaHost",
      ]),
  ]
)
