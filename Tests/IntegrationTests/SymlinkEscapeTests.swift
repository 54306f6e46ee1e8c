import Foundation
import XCTest

final class SymlinkEscapeTests: RuntimeTestCase {
  func testSymlinksInRootfsNeverRedirectMountsToHost() throws {
    let rootfs = try env.copyRootfs()
    let u = "cella-esc-" + TestEnvironment.randomSuffix()
    let fm = FileManager.default
    try fm.createSymbolicLink(atPath: rootfs + "/evil", withDestinationPath: "/")
    try fm.createSymbolicLink(atPath: rootfs + "/evil2", withDestinationPath: "../../../../..")
    try fm.createSymbolicLink(atPath: rootfs + "/evil3", withDestinationPath: "/tmp/\(u)c")
    let hostFile = env.tmp + "/bound-file"
    try "bound\n".write(toFile: hostFile, atomically: true, encoding: .utf8)
    // Where a runtime that follows the links would write on the host.
    let hostPaths = ["/\(u)a", "/tmp/\(u)b", "/tmp/\(u)c", "/etc/\(u)d"]
    env.hostPathsToRemove += hostPaths

    let b = try env.bundle(["cat", "/proc/self/mountinfo", "/etc/\(u)d"])
    b.setRoot(rootfs, readonly: false)
    b.addMount("/evil/\(u)a", type: "tmpfs", source: "tmpfs")
    b.addMount("/evil2/tmp/\(u)b", type: "tmpfs", source: "tmpfs")
    b.addMount("/evil3/sub", type: "tmpfs", source: "tmpfs")
    b.addMount("/evil/etc/\(u)d", type: "bind", source: hostFile, options: ["bind", "ro"])
    let r = env.run(b, id: env.newID())
    XCTAssertEqual(r.status, 0, "\(r)")

    for path in hostPaths {
      XCTAssertFalse(fm.fileExists(atPath: path), "the runtime followed a rootfs symlink to the host: \(path) exists")
    }
    let points = Set(
      r.stdout.split(separator: "\n").compactMap { line -> String? in
        let f = line.split(separator: " ")
        return f.count > 4 ? String(f[4]) : nil
      })
    for inside in ["/\(u)a", "/tmp/\(u)b", "/tmp/\(u)c/sub", "/etc/\(u)d"] {
      XCTAssertTrue(points.contains(inside), "\(inside) is not a mount point inside:\n\(r.stdout)")
    }
    XCTAssertTrue(r.stdout.hasSuffix("bound\n"), r.stdout)
    // The mount points were made inside the copy.
    XCTAssertTrue(fm.fileExists(atPath: rootfs + "/\(u)a"))
    XCTAssertTrue(fm.fileExists(atPath: rootfs + "/tmp/\(u)c/sub"))
  }

  func testSymlinkedCwdStaysInsideRootfs() throws {
    let rootfs = try env.copyRootfs()
    let u = "cella-cwd-" + TestEnvironment.randomSuffix()
    try FileManager.default.createSymbolicLink(atPath: rootfs + "/evilcwd", withDestinationPath: "/tmp/../../..")
    env.hostPathsToRemove.append("/\(u)")
    let b = try env.bundle(["pwd"])
    b.setRoot(rootfs, readonly: false)
    b.editProcess { $0["cwd"] = "/evilcwd/\(u)" }
    let r = env.run(b, id: env.newID())
    XCTAssertFalse(FileManager.default.fileExists(atPath: "/\(u)"), "cwd was created on the host")
    if r.status == 0 {
      XCTAssertTrue(FileManager.default.fileExists(atPath: rootfs + "/\(u)"), "\(r)")
    }
  }
}
