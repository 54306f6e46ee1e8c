import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

final class KilledCreateTests: RuntimeTestCase {
  /// SIGKILL `create` at many points; `delete --force` must then clear everything.
  func testDeleteForceCleansUpAfterKilledCreate() throws {
    let b = try env.bundle(["sleep", "100"])
    // A hook widens the window between the first state save and `created` (it reads its stdin: see HookTests).
    b.addHook("prestart", path: "/bin/sh", args: ["sh", "-c", "cat >/dev/null"])
    try b.write()
    var delays: [UInt32] = [0, 2, 5, 10, 20, 50]
    for _ in 0..<6 { delays.append(UInt32.random(in: 0...150)) }
    for delay in delays {
      let id = env.newID("k\(delay)")
      let p = try Spawner.spawn(
        env.runtime, ["--root", env.stateRoot, "create", "-b", b.dir, id], outputDirectory: env.tmp)
      usleep(delay * 1000)
      kill(p.pid, SIGKILL)
      let killed = p.wait()
      let d = env.rt(["delete", "--force", id])
      XCTAssertEqual(d.status, 0, "delay \(delay) ms (create: \(killed.status)): \(d)")
      XCTAssertEqual(env.stateEntries(), [], "delay \(delay) ms: state left")
      var left = env.processesInRootfs()
      let deadline = Date().addingTimeInterval(3)
      while !left.isEmpty && Date() < deadline {
        usleep(20_000)
        left = env.processesInRootfs()
      }
      XCTAssertEqual(left, [], "delay \(delay) ms (create: \(killed.status)): processes left in the rootfs")
      left.forEach { kill($0, SIGKILL) }
      XCTAssertEqual(env.leakedMounts(), [], "delay \(delay) ms: host mounts left")
      // Whatever was left must not block a new container with the same id.
      let again = env.create(b, id: id)
      XCTAssertEqual(again.status, 0, "delay \(delay) ms: create after delete --force: \(again)")
      XCTAssertEqual(env.rt(["delete", "--force", id]).status, 0)
    }
    assertStateRootEmpty()
  }
}
