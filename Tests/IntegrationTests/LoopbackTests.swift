import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// A network namespace the runtime makes has `lo` up, as with runc and crun (podman's `--network none`).
final class LoopbackTests: RuntimeTestCase {
  /// Prints whether IFF_UP is set on lo, then sends "hello" over TCP to 127.0.0.1 and prints what arrived
  /// (the client retries until the listener is up: a loaded host must not fail it).
  static let probe =
    "f=$(cat /sys/class/net/lo/flags); echo lo-up=$(( f & 1 )); nc -l -p 7777 & l=$!; i=0; "
    + "until echo hello | nc 127.0.0.1 7777 2>/dev/null; do i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.05; done; "
    + "wait $l"

  func testNewNetworkNamespaceHasLoopbackUp() throws {
    let b = try env.bundle(["sh", "-c", Self.probe])
    let out = env.output(b)
    XCTAssertEqual(out.split(separator: "\n").map(String.init), ["lo-up=1", "hello"], out)
  }

  func testNetworkNamespaceOwnedByNewUserNamespaceHasLoopbackUp() throws {
    let b = try env.bundle(["sh", "-c", Self.probe])
    b.addNamespace("user")
    b.editLinux {
      $0["uidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
      $0["gidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
    }
    let out = env.output(b)
    XCTAssertEqual(out.split(separator: "\n").map(String.init), ["lo-up=1", "hello"], out)
  }

  /// podman's `--network container:X`: a second container joins the first one's namespace by path
  /// and reaches a listener there over 127.0.0.1.
  func testContainerJoiningTheNamespaceReachesLoopback() throws {
    let server = try env.bundle(["nc", "-l", "-p", "7777"])
    let serverID = env.newID("srv")
    let serverOut = env.tmp + "/server.out"
    XCTAssertEqual(env.create(server, id: serverID, stdoutPath: serverOut).status, 0)
    XCTAssertEqual(env.rt(["start", serverID]).status, 0)
    let pid = env.pid(serverID)
    // The server's nc may not listen yet on a loaded host: retry for up to 10 s.
    let client = try env.bundle([
      "sh", "-c",
      "i=0; until echo hello | nc 127.0.0.1 7777 2>/dev/null; do i=$((i+1)); [ $i -gt 200 ] && exit 1; sleep 0.05; done",
    ])
    client.removeNamespace("network")
    client.addNamespace("network", path: "/proc/\(pid)/ns/net")
    let r = env.run(client, id: env.newID("cli"))
    XCTAssertEqual(r.status, 0, "\(r)")
    // Generous: on a loaded host (CI has 2 cores) the server may take a while to be seen stopped.
    XCTAssertTrue(env.waitForStatus(serverID, "stopped", timeout: 30))
    XCTAssertEqual(try String(contentsOfFile: serverOut, encoding: .utf8), "hello\n")
  }
}
