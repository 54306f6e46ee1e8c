import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// The "host in a box" network tests stand on: the daemon runs in the box's namespace, the box reaches
/// the outside namespace over its uplink, and the real host's network is not the box's.
final class NetBoxTests: NetBoxTestCase {
  func testDaemonRunsInTheBoxAndTheBoxReachesTheOutside() throws {
    let pid = try XCTUnwrap(f.daemon?.pid)
    var own = stat()
    var boxed = stat()
    XCTAssertEqual(stat("/proc/\(pid)/ns/net", &own), 0)
    XCTAssertEqual(stat(box.hostPath, &boxed), 0)
    XCTAssertEqual(own.st_ino, boxed.st_ino, "the daemon is not in the box's network namespace")
    var real = stat()
    XCTAssertEqual(stat("/proc/self/ns/net", &real), 0)
    XCTAssertNotEqual(real.st_ino, boxed.st_ino)

    let ping = box.inHost(["/bin/busybox", "ping", "-c", "1", "-W", "2", box.outsideAddress])
    XCTAssertEqual(ping.status, 0, "\(ping)")
    let route = box.inHost(["/usr/sbin/ip", "-4", "route", "show", "default"])
    XCTAssertTrue(route.stdout.contains("via \(box.outsideAddress)"), "\(route)")
  }

  func testGuestsOfABoxedDaemonRun() throws {
    let g = f.name("boxed")
    f.ok(["launch", g, "--image", "busybox", "--", "sleep", "60"])
    let info = f.info(g)
    XCTAssertEqual(info["status"] as? String, "running")
    f.ok(["delete", "--force", g])
  }
}
