import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Configs that runc and crun run must run under cella too.
final class RuncDefaultConfigTests: RuntimeTestCase {
  /// The config `runc spec` writes (runc 1.1 lists ambient capabilities without inheritable ones),
  /// changed only to use the test rootfs and no terminal: it runs, with the ambient set left empty.
  func testRuncSpecDefaultConfigRuns() throws {
    guard
      let runc = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"].first(where: {
        FileManager.default.isExecutableFile(atPath: $0)
      })
    else { throw SuiteConfiguration.skip("runc is not installed; its default config comes from `runc spec`") }
    let dir = env.tmp + "/runc-bundle"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let spec = env.host(runc, ["spec", "--bundle", dir])
    XCTAssertEqual(spec.status, 0, "\(spec)")
    let b = try TestBundle(dir: dir)
    let caps = (b.config["process"] as? [String: Any])?["capabilities"] as? [String: Any]
    XCTAssertNotNil(caps?["ambient"], "runc's default config changed: no ambient capabilities")
    XCTAssertNil(caps?["inheritable"], "runc's default config changed: it has inheritable capabilities")
    b.setRoot(env.sharedRootfs, readonly: true)
    b.editProcess {
      $0["terminal"] = false
      $0["args"] = ["grep", "-E", "^Cap(Eff|Amb)", "/proc/self/status"]
    }
    let r = env.run(b, id: env.newID("runc"), flags: [])
    XCTAssertEqual(r.status, 0, "\(r)")
    let fields = r.stdout.split(separator: "\n").map { $0.split(whereSeparator: { $0 == "\t" || $0 == " " }) }
    let values = Dictionary(
      uniqueKeysWithValues: fields.compactMap { $0.count == 2 ? (String($0[0]), String($0[1])) : nil })
    // CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE
    XCTAssertEqual(values["CapEff:"], "0000000020000420", r.stdout)
    XCTAssertEqual(values["CapAmb:"], "0000000000000000", r.stdout)
  }

  /// The skipped ambient capabilities are named in the debug log.
  func testSkippedAmbientCapabilityIsLogged() throws {
    let b = try env.bundle(["true"])
    b.editProcess {
      $0["capabilities"] = [
        "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"],
      ]
    }
    let log = env.tmp + "/debug.log"
    try b.write()
    let r = env.rt(["--debug", "--log", log, "run", "-b", b.dir, env.newID()])
    XCTAssertEqual(r.status, 0, "\(r)")
    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    XCTAssertTrue(
      text.contains("process.capabilities.ambient: CAP_KILL skipped: not in both permitted and inheritable"), text)
  }
}
