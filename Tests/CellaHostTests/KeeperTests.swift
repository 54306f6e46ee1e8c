import CellaAPI
import CellaErrors
import CellaHost
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// The keeper with a real busybox guest made by cella-runtime (needs root, CELLA_RUNTIME, CELLA_TEST_ROOTFS).
final class KeeperTests: XCTestCase {
  var fx: KeeperFixture!

  override func setUpWithError() throws {
    try super.setUpWithError()
    // The helper half of testKeeperOutlivesTheProcessThatSpawnedIt runs only when that test asks for it.
    // (Not an XCTSkip: Scripts/test.sh's summary counts a skip as a failure.)
    if name.contains("HelperStartsKeeper") { return }
    fx = try KeeperFixture()
  }

  override func tearDownWithError() throws {
    if let fx { for problem in fx.tearDown() { XCTFail(problem) } }
    fx = nil
    try super.tearDownWithError()
  }

  func testConsoleGoesToTheLogAndEveryClientAndInputAndResizeReachTheGuest() throws {
    let script = "echo hello; while read l; do if [ \"$l\" = size ]; then stty size; else echo got:$l; fi; done"
    _ = try fx.start(script)
    XCTAssertTrue(
      fx.eventually { self.fx.read(self.fx.paths.consoleLog).contains("hello") },
      "console.log: \(fx.read(fx.paths.consoleLog))")
    let a = try ConsoleClient(fx.paths)
    let b = try ConsoleClient(fx.paths)
    a.type("ping\n")
    XCTAssertTrue(a.waitFor("got:ping"), "client a saw: \(a.text)")
    XCTAssertTrue(b.waitFor("got:ping"), "client b saw: \(b.text)")
    b.send(.resize(rows: 33, cols: 101))
    b.type("size\n")
    XCTAssertTrue(a.waitFor("33 101"), "stty size after the resize: \(a.text)")
    XCTAssertTrue(fx.read(fx.paths.consoleLog).contains("got:ping"))
  }

  func testExitCodeGoesToExitJSONAndToClients() throws {
    let (keeper, _) = try fx.start("read x; exit 3")
    let client = try ConsoleClient(fx.paths)
    client.type("go\n")
    XCTAssertTrue(client.read(until: { $0.exitPayload != nil }), "no exit frame; saw \(client.text)")
    XCTAssertTrue(client.exitPayload?.contains("\"code\":3") == true, "exit frame: \(client.exitPayload ?? "none")")
    XCTAssertEqual(fx.waitForChild(keeper), 0, "keeper.log: \(fx.read(fx.paths.keeperLog))")
    let exit = KeeperLink.readExit(paths: fx.paths)
    XCTAssertEqual(exit?.code, 3)
    XCTAssertNil(exit?.signal)
    XCTAssertTrue(exit?.time.hasSuffix("Z") == true)
    XCTAssertFalse(KeeperLink.isAlive(paths: fx.paths))
  }

  func testGuestKilledBySignalIsRecordedAsThatSignal() throws {
    let (keeper, initPID) = try fx.start("sleep 100")
    let client = try ConsoleClient(fx.paths)
    XCTAssertEqual(kill(initPID, SIGKILL), 0)
    XCTAssertTrue(client.read(until: { $0.exitPayload != nil }), "no exit frame")
    XCTAssertTrue(client.exitPayload?.contains("\"signal\":9") == true, "exit frame: \(client.exitPayload ?? "none")")
    XCTAssertEqual(fx.waitForChild(keeper), 0)
    let exit = KeeperLink.readExit(paths: fx.paths)
    XCTAssertEqual(exit?.signal, 9)
    XCTAssertNil(exit?.code)
  }

  /// The spawning side of testKeeperOutlivesTheProcessThatSpawnedIt, run in a child test process: starts a
  /// keeper, writes its pids, then hangs up its whole process group (as a closed terminal would).
  func testHelperStartsKeeperThenHangsUp() throws {
    guard let spec = ProcessInfo.processInfo.environment["CELLA_KEEPER_HELPER"] else { return }
    let parts = spec.split(separator: "|").map(String.init)
    let link = KeeperLink(keeperPath: parts[4], runtimePath: parts[5], runtimeRoot: parts[1])
    let r = try link.start(
      id: parts[2], paths: StoreLayout(root: parts[0]).guest("g"), bundle: "bundle", logMax: 1 << 20)
    try "\(r.keeper) \(r.initPID)".write(toFile: parts[3], atomically: true, encoding: .utf8)
    kill(0, SIGHUP)
  }

  func testKeeperOutlivesTheProcessThatSpawnedIt() throws {
    try fx.writeBundle(["sh", "-c", "echo alive; sleep 100"])
    let pidsFile = fx.tmp + "/pids"
    let helperEnv = "CELLA_KEEPER_HELPER=\(fx.tmp)|\(fx.runtimeRoot)|\(fx.id)|\(pidsFile)|\(fx.keeper)|\(fx.runtime)"
    let testBinary = CommandLine.arguments[0]
    guard
      let helper = KeeperFixture.spawn(
        testBinary, ["CellaHostTests.KeeperTests/testHelperStartsKeeperThenHangsUp"], stdout: fx.tmp + "/helper.out",
        stderr: fx.tmp + "/helper.out", ownGroup: true, env: [helperEnv])
    else { return XCTFail("cannot spawn \(testBinary)") }
    var status: Int32 = 0
    XCTAssertTrue(fx.eventually(60) { waitpid(helper, &status, WNOHANG) == helper }, "helper did not end")
    let pids = fx.read(pidsFile).split(separator: " ").compactMap { Int32($0) }
    guard pids.count == 2 else { return XCTFail("helper wrote no pids: \(fx.read(fx.tmp + "/helper.out"))") }
    fx.keepers.append(pids[0])
    XCTAssertEqual(status & 0x7f, SIGHUP, "the helper should have hung up its group")
    usleep(200_000)
    XCTAssertEqual(kill(pids[0], 0), 0, "keeper gone; keeper.log: \(fx.read(fx.paths.keeperLog))")
    XCTAssertEqual(kill(pids[1], 0), 0, "guest gone")
    XCTAssertTrue(KeeperLink.isAlive(paths: fx.paths))
    let client = try ConsoleClient(fx.paths)
    client.send(.resize(rows: 20, cols: 70))
    XCTAssertFalse(client.closed)
    XCTAssertTrue(fx.read(fx.paths.consoleLog).contains("alive"))
    kill(pids[0], SIGKILL)
    XCTAssertTrue(fx.eventually { !KeeperLink.isAlive(paths: self.fx.paths) })
  }

  func testMissingCommandThrowsTheRuntimesErrorAndLeavesNothing() throws {
    try fx.writeBundle(["/no/such/command"])
    XCTAssertThrowsError(try fx.link.start(id: fx.id, paths: fx.paths, bundle: "bundle", logMax: 4096)) { error in
      let e = error as? HostError
      XCTAssertEqual(e?.kind, .executableNotFound, "\(error)")
      XCTAssertTrue(e?.message.contains("/no/such/command") == true, "\(error)")
    }
    XCTAssertEqual(fx.runtimeEntries(), [])
    XCTAssertFalse(KeeperLink.isAlive(paths: fx.paths))
    XCTAssertThrowsError(try KeeperLink.connect(paths: fx.paths)) { error in
      XCTAssertEqual((error as? HostError)?.kind, .invalidState)
    }
    XCTAssertNil(KeeperLink.readExit(paths: fx.paths))
  }

  func testConsoleLogRotatesAtLogMax() throws {
    let script = "i=0; while [ $i -lt 60 ]; do echo line-$i-abcdefghijklmnopqrstuvwxyz; i=$((i+1)); done; exit 0"
    let (keeper, _) = try fx.start(script, logMax: 1000)
    XCTAssertEqual(fx.waitForChild(keeper), 0, "keeper.log: \(fx.read(fx.paths.keeperLog))")
    let current = fx.read(fx.paths.consoleLog)
    let old = fx.read(fx.paths.consoleLogOld)
    XCTAssertTrue(current.contains("line-59-"), "console.log: \(current)")
    XCTAssertFalse(old.isEmpty, "no console.log.1")
    XCTAssertLessThanOrEqual(current.utf8.count, 1000)
    XCTAssertLessThanOrEqual(old.utf8.count, 1000)
    XCTAssertFalse(current.contains("line-0-"))
  }

  func testNeitherKeeperNorGuestInheritsTheSpawnersFDs() throws {
    // An fd without close-on-exec, as a library in the daemon might leave one.
    let leakPath = fx.tmp + "/leaked-fd"
    let leaked = open(leakPath, O_WRONLY | O_CREAT, 0o600)
    XCTAssertGreaterThanOrEqual(leaked, 0)
    defer { close(leaked) }
    let (keeper, initPID) = try fx.start("sleep 100")
    func targets(_ pid: Int32) -> [String] {
      let dir = "/proc/\(pid)/fd"
      return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\($0)")
      }
    }
    XCTAssertFalse(targets(keeper).contains(leakPath), "keeper fds: \(targets(keeper))")
    let guest = targets(initPID)
    XCTAssertEqual(guest.count, 3, "init should hold only its terminal: \(guest)")
    XCTAssertTrue(guest.allSatisfy { $0.hasPrefix("/dev/pts/") }, "init fds: \(guest)")
  }

  func testAKeeperThatNeverReportsIsKilledAfterTheTimeout() throws {
    try fx.writeBundle(["sleep", "100"])
    let wedged = fx.tmp + "/wedged-keeper"
    try "#!/bin/sh\necho $$ > \(fx.tmp)/wedged.pid\nexec sleep 100\n".write(
      toFile: wedged, atomically: true, encoding: .utf8)
    chmod(wedged, 0o755)
    var link = KeeperLink(keeperPath: wedged, runtimePath: fx.runtime, runtimeRoot: fx.runtimeRoot)
    link.resultTimeout = 1
    let started = Date()
    XCTAssertThrowsError(try link.start(id: fx.id, paths: fx.paths, bundle: "bundle", logMax: 4096)) { error in
      XCTAssertEqual((error as? HostError)?.kind, .system, "\(error)")
      XCTAssertTrue("\(error)".contains("did not report within 1 s"), "\(error)")
    }
    XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    let pid = Int32(fx.read(fx.tmp + "/wedged.pid").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    XCTAssertGreaterThan(pid, 0)
    XCTAssertNotEqual(kill(pid, 0), 0, "the wedged keeper still runs")
  }

  func testSecondKeeperForTheSameGuestRefuses() throws {
    let (_, initPID) = try fx.start("sleep 100")
    XCTAssertThrowsError(try fx.link.start(id: fx.id, paths: fx.paths, bundle: "bundle", logMax: 4096)) { error in
      XCTAssertEqual((error as? HostError)?.kind, .invalidState, "\(error)")
    }
    // The keeper itself refuses too, whoever starts it.
    let out = fx.tmp + "/second.out"
    let err = fx.tmp + "/second.err"
    guard
      let second = KeeperFixture.spawn(
        fx.keeper,
        [
          "--runtime", fx.runtime, "--root", fx.runtimeRoot, "--id", fx.id + "x", "--bundle", "bundle", "--log-max",
          "4096",
        ],
        stdout: out, stderr: err, cwd: fx.paths.dir)
    else { return XCTFail("cannot spawn the keeper") }
    XCTAssertEqual(fx.waitForChild(second), 1)
    XCTAssertEqual(fx.read(out), "fail keeper 1\n")
    let lines = fx.read(err).split(separator: "\n")
    XCTAssertEqual(lines.count, 1, fx.read(err))
    XCTAssertTrue(lines.first?.contains("keeper.lock") == true, fx.read(err))
    XCTAssertEqual(kill(initPID, 0), 0, "the first guest must still run")
    XCTAssertTrue(KeeperLink.isAlive(paths: fx.paths))
    _ = try ConsoleClient(fx.paths)
  }
}
