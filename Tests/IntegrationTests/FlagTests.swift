import Foundation
import XCTest

/// runc flags that clients pass: --preserve-fds and exec --process.
final class FlagTests: RuntimeTestCase {
  func testPreserveFdsPassesTheCallersExtraFdsAndNoOthers() throws {
    let b = try env.bundle(["sh", "-c", "ls /proc/$$/fd; cat <&3; true"])
    try b.write()
    let marker = env.tmp + "/preserved.txt"
    try "kept-open\n".write(toFile: marker, atomically: true, encoding: .utf8)
    // fd 3 is meant for the container; fd 4 is a leak the runtime must not pass on.
    let r = env.host(
      "/bin/sh",
      [
        "-c", "exec 3<\"$4\" 4</; exec \"$0\" --root \"$1\" run --preserve-fds 1 -b \"$2\" \"$3\"", env.runtime,
        env.stateRoot, b.dir, env.newID(), marker,
      ])
    XCTAssertEqual(r.status, 0, "\(r)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    XCTAssertEqual(Array(lines.prefix(4)), ["0", "1", "2", "3"], r.stdout)
    XCTAssertTrue(r.stdout.contains("kept-open"), r.stdout)
  }

  func testExecWithAProcessFileRunsThatProcess() throws {
    let b = try env.bundle(["sleep", "30"])
    let id = env.newID()
    _ = env.startDetached(b, id: id)
    let process: [String: Any] = [
      "terminal": false, "user": ["uid": 1000, "gid": 1000], "args": ["sh", "-c", "echo $GREETING; id -u; pwd"],
      "env": ["PATH=/bin:/usr/bin", "GREETING=from-process-json"], "cwd": "/tmp",
    ]
    let path = env.tmp + "/process.json"
    try JSONSerialization.data(withJSONObject: process).write(to: URL(fileURLWithPath: path))
    let r = env.rt(["exec", "--process", path, id])
    XCTAssertEqual(r.status, 0, "\(r)")
    XCTAssertEqual(r.stdout, "from-process-json\n1000\n/tmp\n")
  }
}
