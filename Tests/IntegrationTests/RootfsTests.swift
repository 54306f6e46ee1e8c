import Foundation
import XCTest

final class RootfsTests: RuntimeTestCase {
  /// The mountinfo line (inside the container) whose mount point is `point`, split into fields.
  func mountLine(_ mountinfo: String, _ point: String) -> [String]? {
    mountinfo.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.last {
      $0.count > 4 && $0[4] == point
    }
  }

  /// Per-mount options (field 6) of a mountinfo line.
  func mountOptions(_ fields: [String]) -> Set<String> {
    Set(fields[5].split(separator: ",").map(String.init))
  }

  func testReadonlyRootRejectsWrites() throws {
    let b = try env.bundle(["touch", "/x"])
    let r = env.run(b, id: env.newID())
    XCTAssertNotEqual(r.status, 0, "\(r)")
    XCTAssertFalse(FileManager.default.fileExists(atPath: env.sharedRootfs + "/x"))
  }

  func testReadonlyBindMountRejectsWrites() throws {
    let source = env.tmp + "/data"
    try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
    let b = try env.bundle(["sh", "-c", "cat /tmp/data/hello; touch /tmp/data/new && echo wrote"])
    b.addMount("/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"])
    b.addMount("/tmp/data", type: "bind", source: source, options: ["rbind", "ro"])
    try "hi\n".write(toFile: source + "/hello", atomically: true, encoding: .utf8)
    let r = env.run(b, id: env.newID())
    XCTAssertNotEqual(r.status, 0, "\(r)")
    XCTAssertEqual(r.stdout, "hi\n")
    XCTAssertFalse(FileManager.default.fileExists(atPath: source + "/new"))
  }

  func testBindMountWithNosuidNodevNoexecShowsOptions() throws {
    let source = env.tmp + "/data"
    try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
    let b = try env.bundle(["cat", "/proc/self/mountinfo"])
    b.addMount("/tmp", type: "tmpfs", source: "tmpfs")
    b.addMount("/tmp/data", type: "bind", source: source, options: ["bind", "nosuid", "nodev", "noexec"])
    let out = env.output(b)
    guard let fields = mountLine(out, "/tmp/data") else { return XCTFail("no /tmp/data in mountinfo:\n\(out)") }
    let opts = mountOptions(fields)
    XCTAssertTrue(opts.isSuperset(of: ["nosuid", "nodev", "noexec", "rw"]), "\(fields)")
  }

  func testTmpfsMountHonoursSize() throws {
    let b = try env.bundle(["sh", "-c", "cat /proc/self/mountinfo; df -k /tmp/small"])
    b.addMount("/tmp", type: "tmpfs", source: "tmpfs")
    b.addMount("/tmp/small", type: "tmpfs", source: "tmpfs", options: ["size=1m", "mode=700"])
    let out = env.output(b)
    guard let fields = mountLine(out, "/tmp/small") else { return XCTFail("no /tmp/small in mountinfo:\n\(out)") }
    XCTAssertEqual(fields[fields.count - 3], "tmpfs", "\(fields)")
    XCTAssertTrue(fields.last?.split(separator: ",").contains("size=1024k") ?? false, "\(fields)")
    let df = out.split(separator: "\n").last?.split(separator: " ") ?? []
    XCTAssertEqual(df.count > 1 ? df[1] : "", "1024", "df: \(df)")
  }

  func testNoPivotRunsContainer() throws {
    let b = try env.bundle(["sh", "-c", "echo ok; ls /bin/busybox; cat /proc/1/cmdline >/dev/null"])
    let r = env.run(b, id: env.newID(), flags: ["--no-pivot"])
    XCTAssertEqual(r.status, 0, "\(r)")
    XCTAssertEqual(r.stdout, "ok\n/bin/busybox\n")
  }

  func testRootfsPropagationShowsOnRootMount() throws {
    for mode in ["private", "slave", "shared", "unbindable"] {
      let b = try env.bundle(["cat", "/proc/self/mountinfo"])
      b.editLinux { $0["rootfsPropagation"] = mode }
      let r = env.run(b, id: env.newID(mode))
      XCTAssertEqual(r.status, 0, "\(mode): \(r)")
      guard let fields = mountLine(r.stdout, "/") else {
        XCTFail("\(mode): no root in mountinfo:\n\(r.stdout)")
        continue
      }
      let optional = fields[6..<(fields.firstIndex(of: "-") ?? fields.count)]
      XCTAssertEqual(optional.contains { $0.hasPrefix("shared:") }, mode == "shared", "\(mode): \(fields)")
      XCTAssertEqual(optional.contains("unbindable"), mode == "unbindable", "\(mode): \(fields)")
    }
  }

  func testDefaultDevicesExist() throws {
    let b = try env.bundle([
      "sh", "-c",
      "stat -c '%F %t,%T' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; readlink /dev/ptmx; readlink /dev/fd",
    ])
    let lines = env.output(b).split(separator: "\n").map(String.init)
    XCTAssertEqual(
      lines,
      [
        "character special file 1,3", "character special file 1,5", "character special file 1,7",
        "character special file 1,8", "character special file 1,9", "character special file 5,0", "pts/ptmx",
        "/proc/self/fd",
      ])
  }
}
