import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// `security.userns` guests: guest root is a host id range of its own, yet owns and writes its root
/// file system, which is the shared image idmapped onto that range under the guest's own upper layer.
final class ManagerUsernsTests: ManagerTestCase {
  override func prepare(_ fixture: DaemonFixture) {
    // Guest root runs as its own host ids when the runtime binds its root: it must search its way there.
    chmod(fixture.tmp, 0o711)
  }

  private func run(_ g: String, _ script: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    f.ok(["exec", g, "--", "sh", "-c", script], file: file, line: line).stdout
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// The host owner of `path` (not following a link), or nil.
  private func owner(_ path: String) -> uid_t? {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_uid : nil
  }

  private func launchUserns(_ g: String) {
    f.ok(["launch", g, "--image", "busybox", "-c", "security.userns=true", "--", "sleep", "1000"])
  }

  func testUsernsGuestRootOwnsAndWritesItsFilesWhileTheImageStaysUnchanged() throws {
    let g = f.name("uns")
    launchUserns(g)
    XCTAssertEqual(run(g, "id -u"), "0")
    XCTAssertEqual(
      run(g, "cat /proc/self/uid_map").split(separator: " ", omittingEmptySubsequences: true),
      ["0", "1000000", "65536"])
    XCTAssertEqual(run(g, "stat -c %u:%g /etc/passwd /"), "0:0\n0:0")
    XCTAssertEqual(
      f.cli(["exec", g, "--", "sh", "-c", "touch /newfile && rm /bin/ls && echo hi > /etc/motd"]).status, 0)
    XCTAssertEqual(run(g, "ls /bin/ls 2>&1; stat -c %u /newfile"), "ls: /bin/ls: No such file or directory\n0")

    let image = f.stateDir + "/images/busybox/rootfs"
    let upper = f.stateDir + "/guests/\(g)/upper"
    XCTAssertEqual(owner(image + "/bin/ls"), 0, "the image keeps /bin/ls, owned by host root")
    XCTAssertEqual(owner(image + "/etc/passwd"), 0)
    XCTAssertNil(owner(image + "/newfile"))
    XCTAssertEqual(owner(upper + "/newfile"), 1_000_000, "a file guest root made belongs to the range's first id")
    XCTAssertEqual(owner(upper), 1_000_000)

    f.ok(["stop", g, "--force"])
    XCTAssertEqual(f.mountsUnder(f.stateDir), [], "stop unmounts the overlay and the idmapped lower")
    f.ok(["start", g])
    XCTAssertEqual(run(g, "stat -c %u /newfile; id -u"), "0\n0", "the guest's files survive a restart")
    f.ok(["delete", "--force", g])
    XCTAssertEqual(f.mountsUnder(f.stateDir), [], "delete leaves nothing mounted")
    XCTAssertEqual(owner(image + "/bin/ls"), 0, "deleting the guest leaves the image alone")
  }

  func testTwoUsernsGuestsGetDisjointRangesAndOwnTheirOwnFiles() throws {
    let a = f.name("una")
    let b = f.name("unb")
    launchUserns(a)
    launchUserns(b)
    var firsts: [String] = []
    for g in [a, b] {
      let map = run(g, "touch /mine; stat -c %u /mine; cat /proc/self/uid_map")
      let fields = map.split(whereSeparator: { $0 == " " || $0 == "\n" })
      XCTAssertEqual(fields.first, "0", "guest root owns what it makes: \(map)")
      XCTAssertEqual(fields.count, 4, map)
      guard fields.count == 4 else { continue }
      firsts.append(String(fields[2]))
      XCTAssertEqual(String(fields[3]), "65536")
      XCTAssertEqual(owner(f.stateDir + "/guests/\(g)/upper/mine").map(String.init), String(fields[2]))
    }
    XCTAssertEqual(Set(firsts).count, 2, "different ranges: \(firsts)")
  }

  func testUsernsIsTakenByAnUnusedGuestAndRefusedOnceTheGuestHasRun() throws {
    let fresh = f.name("unf")
    f.ok(["create", fresh, "--image", "busybox", "--", "sleep", "1000"])
    f.ok(["config", "set", fresh, "security.userns=true"])
    f.ok(["start", fresh])
    XCTAssertEqual(run(fresh, "touch /x && stat -c %u / /x"), "0\n0", "a guest that never ran switches to userns")

    let used = f.name("unu")
    f.ok(["launch", used, "--image", "busybox", "--", "sleep", "1000"])
    f.ok(["exec", used, "--", "touch", "/made-as-host-root"])
    f.ok(["stop", used, "--force"])
    let refused = f.cli(["config", "set", used, "security.userns=true"])
    XCTAssertNotEqual(refused.status, 0, "\(refused)")
    XCTAssertTrue(refused.stderr.contains("security.userns"), "the error names the key: \(refused)")
    XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, "one line: \(refused)")
    XCTAssertNil((f.info(used)["config"] as? [String: String])?["security.userns"], "the change was not made")
    f.ok(["start", used])
    XCTAssertEqual(run(used, "stat -c %u /made-as-host-root"), "0")
  }

  func testTheNextDaemonUnmountsTheIdmappedLowerOfAGuestThatEndedWhileNoDaemonRan() throws {
    let g = f.name("unr")
    launchUserns(g)
    let pid = try XCTUnwrap(f.info(g)["pid"] as? Int)
    f.killDaemon()
    kill(pid_t(pid), SIGKILL)
    XCTAssertTrue(f.eventually { kill(pid_t(pid), 0) != 0 })
    XCTAssertFalse(f.mountsUnder(f.stateDir).isEmpty, "the guest's mounts outlive the daemon")
    try f.startDaemon()
    XCTAssertTrue(f.eventually { self.f.info(g)["status"] as? String == "stopped" })
    XCTAssertEqual(f.mountsUnder(f.stateDir), [], "recovery unmounts the overlay and the idmapped lower")
    f.ok(["start", g])
    XCTAssertEqual(run(g, "touch /after && stat -c %u /after"), "0")
  }

  func testUsernsStartNamesTheDirectoryGuestRootCannotSearchAndLeavesNothingMounted() throws {
    let g = f.name("unp")
    chmod(f.tmp, 0o700)
    defer { chmod(f.tmp, 0o711) }
    let r = f.cli(["launch", g, "--image", "busybox", "-c", "security.userns=true", "--", "sleep", "1000"])
    XCTAssertNotEqual(r.status, 0, "\(r)")
    XCTAssertTrue(r.stderr.contains("cannot search \(f.tmp) ") && r.stderr.contains("chmod o+x"), "\(r)")
    XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r)")
    XCTAssertEqual(f.mountsUnder(f.stateDir), [])
  }

  func testAShiftedDiskIsGuestRootsWhileAPlainOneShowsHostRootAsNobody() throws {
    let dir = f.tmp + "/disk"
    XCTAssertEqual(mkdir(dir, 0o755), 0)
    XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/hostfile", contents: Data()))
    let refused = f.cli([
      "create", f.name("unx"), "--image", "busybox", "-c", "disk.d.source=\(dir)",
      "-c", "disk.d.path=/d", "-c", "disk.d.shift=true",
    ])
    XCTAssertNotEqual(refused.status, 0, "\(refused)")
    XCTAssertTrue(refused.stderr.contains("disk.d.shift: needs security.userns=true"), "\(refused)")

    let g = f.name("und")
    f.ok([
      "launch", g, "--image", "busybox", "-c", "security.userns=true", "-c", "disk.s.source=\(dir)", "-c",
      "disk.s.path=/shifted", "-c", "disk.s.shift=true", "-c", "disk.p.source=\(dir)", "-c", "disk.p.path=/plain",
      "--", "sleep", "1000",
    ])
    XCTAssertEqual(run(g, "stat -c %u /shifted/hostfile /plain/hostfile"), "0\n65534")
    XCTAssertEqual(f.cli(["exec", g, "--", "touch", "/shifted/made"]).status, 0)
    XCTAssertEqual(owner(dir + "/made"), 0, "guest root writes a shifted disk as host root")
    XCTAssertNotEqual(f.cli(["exec", g, "--", "touch", "/plain/denied"]).status, 0, "a plain disk is not guest root's")
    XCTAssertNil(owner(dir + "/denied"))
  }
}

extension ManagerUsernsTests {
  func testAUsernsGuestCopiedToAnotherStoreKeepsItsIdRange() throws {
    let first = f.name("ua")
    let moved = f.name("ub")
    f.ok(["launch", first, "--image", "busybox", "-c", "security.userns=true", "--", "sleep", "1000"])
    f.ok(["launch", moved, "--image", "busybox", "-c", "security.userns=true", "--", "sleep", "1000"])
    let map = f.ok(["exec", moved, "--", "cat", "/proc/self/uid_map"]).stdout
    XCTAssertTrue(map.contains("1065536"), "the second guest has the second range: \(map)")
    f.ok(["exec", moved, "--", "sh", "-c", "echo mine > /file"])
    f.ok(["stop", moved, "--force"])
    let other = try DaemonFixture()
    defer { other.tearDown() }
    chmod(other.tmp, 0o711)
    try other.startDaemon()
    try other.busyboxImage()
    let copy = Spawner.run(
      "/bin/cp", ["-a", f.stateDir + "/guests/" + moved, other.stateDir + "/guests/" + moved], outputDirectory: f.tmp)
    XCTAssertEqual(copy.status, 0, "\(copy)")
    other.ok(["start", moved])
    XCTAssertTrue(other.ok(["exec", moved, "--", "cat", "/proc/self/uid_map"]).stdout.contains("1065536"))
    XCTAssertEqual(other.ok(["exec", moved, "--", "sh", "-c", "cat /file; stat -c %u /file"]).stdout, "mine\n0\n")
    other.ok(["delete", "--force", moved])
  }
}
