import CellaCgroups
import CellaEngine
import CellaOCI
import CellaRuntimeCore
import Glibc
import XCTest

/// `Creator.checkConfig` runs create's checks without side effects (the fuzzer calls it millions of times).
final class CheckConfigTests: XCTestCase {
  /// A hybrid host at paths that do not exist, as the fuzzer uses.
  private let cgroups = Cgroups.driver(
    hierarchies: CgroupHierarchies(
      layout: .hybrid, v1: ["memory": "/nonexistent/cella-test/memory"], unified: nil, unifiedControllers: []))

  private func openFDCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
  }

  func testCheckingAnIdmapConfigLeavesNoFileDescriptorOpen() throws {
    guard geteuid() == 0 else { throw XCTSkip("idmapped mounts need root") }
    let source = NSTemporaryDirectory() + "cella-checkconfig-\(getpid())"
    try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: source) }
    var spec = DefaultSpec.make(terminal: false)
    let mapping = [IDMapping(containerID: 0, hostID: 1234, size: 1)]
    spec.mounts?.append(
      Mount(
        destination: "/data", type: "bind", source: source, options: ["rbind", "idmap"], uidMappings: mapping,
        gidMappings: mapping))
    let bytes = DefaultSpec.encode(spec)
    var options = CreateOptions(id: "check", bundle: "/nonexistent/bundle")
    options.seccompCache = nil
    let before = openFDCount()
    for _ in 0..<300 {
      try Creator.checkConfig(bytes, options: options, hostHasPath: { _ in true }, cgroups: cgroups)
    }
    XCTAssertEqual(openFDCount(), before)
  }
}
