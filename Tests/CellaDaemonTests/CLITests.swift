import CShims
import CellaAPI
import CellaDaemon
import CellaErrors
import CellaSys
import Foundation
import Glibc
import XCTest

/// The `cella` executable against a daemon serving the fake service.
final class CLITests: XCTestCase {
  var daemon: TestDaemon!

  override func setUpWithError() throws { daemon = try TestDaemon() }
  override func tearDown() { daemon.stop() }

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// The built `cella` next to this test bundle.
  static var binary: String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    var path = String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    while let slash = path.lastIndex(of: "/"), path[slash...].contains(".xctest") || !path.hasSuffix("/debug") {
      path = String(path[..<slash])
      if path.hasSuffix("/debug") || path.hasSuffix("/release") { break }
    }
    return path + "/cella"
  }

  func cella(_ args: [String], stdin: String = "", env: [String] = [], socket: String? = nil) throws -> Result {
    var i: [Int32] = [-1, -1]
    var o: [Int32] = [-1, -1]
    var e: [Int32] = [-1, -1]
    XCTAssertEqual(cella_pipe2(&i, O_CLOEXEC), 0)
    XCTAssertEqual(cella_pipe2(&o, O_CLOEXEC), 0)
    XCTAssertEqual(cella_pipe2(&e, O_CLOEXEC), 0)
    let pid = try Spawn.start(
      path: Self.binary, argv: ["cella"] + args,
      env: ["CELLA_SOCKET=\(socket ?? daemon.socket)", "PATH=/usr/bin:/bin"] + env, stdin: i[0], stdout: o[1],
      stderr: e[1])
    close(i[0])
    close(o[1])
    close(e[1])
    let input = Array(stdin.utf8)
    _ = write(i[1], input, input.count)
    close(i[1])
    let out = try FileIO.readAll(fd: o[0])
    let err = try FileIO.readAll(fd: e[0])
    close(o[0])
    close(e[0])
    let status = try Processes.wait(pid)
    return Result(
      status: Processes.exitCode(status: status), stdout: String(decoding: out, as: UTF8.self),
      stderr: String(decoding: err, as: UTF8.self))
  }

  func testListPrintsAnAlignedTableOrJSON() throws {
    let table = try cella(["list"])
    XCTAssertEqual(table.status, 0, table.stderr)
    XCTAssertEqual(
      table.stdout, "NAME  STATUS   KIND       IMAGE  PID  IPV4\nweb   running  container  bb     42   -\n")
    let json = try cella(["list", "--format", "json"])
    XCTAssertEqual(
      try JSONDecoder().decode([GuestSummary].self, from: Data(json.stdout.utf8)),
      [GuestSummary(name: "web", kind: .container, status: .running, pid: 42, image: "bb")])
  }

  func testExecForwardsStdinSeparatesOutputsAndExitsWithTheProcessCode() throws {
    let result = try cella(["exec", "web", "--env", "A=1", "--", "sh", "-c", "x"], stdin: "hello\n")
    XCTAssertEqual(result.stdout, "hello\n")
    XCTAssertEqual(result.stderr, "err\n")
    XCTAssertEqual(result.status, 7)
    XCTAssertEqual(daemon.service.calls, ["prepareExec(web,[\"sh\", \"-c\", \"x\"])", "startExec(e1)"])
  }

  func testExecOfAProcessKilledBySignalNExits128PlusN() throws {
    daemon.service.execScript = "kill -TERM $$"
    XCTAssertEqual(try cella(["exec", "web", "--", "true"]).status, 128 + 15)
  }

  func testErrorsAreOneLineWithTheirKindsExitCode() throws {
    let cases: [(ErrorKind, Int32)] = [(.executableNotFound, 127), (.executableNotRunnable, 126), (.notFound, 1)]
    for (kind, code) in cases {
      daemon.service.fail("prepareExec", with: APIError(kind, "exec web: \"nope\": \(kind.rawValue)"))
      let result = try cella(["exec", "web", "--", "nope"])
      XCTAssertEqual(result.status, code, kind.rawValue)
      XCTAssertEqual(result.stderr, "cella: exec web: \"nope\": \(kind.rawValue)\n")
    }
  }

  func testTheDaemonNotRunningIsOneLine() throws {
    let result = try cella(["list"], socket: daemon.dir + "/none.sock")
    XCTAssertEqual(result.status, 1)
    XCTAssertEqual(
      result.stderr,
      "cella: the daemon is not running (no socket at \(daemon.dir)/none.sock): start it with \"cella daemon\"\n")
  }

  func testUsageErrorsAreOneLineAndExit1() throws {
    for args in [
      ["create", "web"], ["frobnicate"], ["list", "--format", "xml"], ["config", "set", "web", "novalue"],
    ] {
      let result = try cella(args)
      XCTAssertEqual(result.status, 1, "\(args)")
      XCTAssertTrue(result.stderr.hasPrefix("cella: "), result.stderr)
      XCTAssertEqual(result.stderr.filter { $0 == "\n" }.count, 1, result.stderr)
    }
    XCTAssertEqual(
      try cella(["config", "set", "web", "novalue"]).stderr, "cella: config set \"novalue\": expected KEY=VALUE\n")
    XCTAssertTrue(daemon.service.calls.isEmpty)
  }

  func testCreateLaunchAndLifecycleVerbsSendTheirRequests() throws {
    for args in [
      ["create", "web", "--image", "bb", "-c", "limits.pids=10", "--", "sh"], ["launch", "db", "--image", "bb"],
      ["start", "web"], ["stop", "web", "--timeout", "3", "--force"], ["restart", "web"],
      ["kill", "web", "--signal", "TERM"],
      ["delete", "web", "--force"], ["config", "set", "web", "a=1"], ["config", "unset", "web", "b"],
      ["profile", "create", "p", "-c", "x=y"], ["image", "build", "debian", "deb", "--suite", "trixie"],
      ["image", "delete", "old"],
    ] {
      let result = try cella(args)
      XCTAssertEqual(result.status, 0, "\(args): \(result.stderr)")
    }
    XCTAssertEqual(
      daemon.service.calls,
      [
        "createGuest(web,bb,[\"limits.pids\": \"10\"],false)", "createGuest(db,bb,[:],true)", "startGuest(web)",
        "stopGuest(web,3,true)", "restartGuest(web,nil)", "killGuest(web,TERM)", "deleteGuest(web,true)",
        "patchGuestConfig(web,[\"a\": \"1\"],[])", "patchGuestConfig(web,[:],[\"b\"])",
        "createProfile(p,[\"x\": \"y\"])",
        "buildImage(debian,deb,trixie)", "deleteImage(old)",
      ])
  }

  func testNetworkVerbsSendTheirRequestsAndPrintTables() throws {
    for args in [
      ["network", "create", "lan"], ["network", "create", "dmz", "--subnet", "10.5.0.0/24", "--gateway", "10.5.0.9"],
      ["network", "create", "iso", "--no-nat", "--isolated"], ["network", "delete", "lan"],
    ] {
      let result = try cella(args)
      XCTAssertEqual(result.status, 0, "\(args): \(result.stderr)")
    }
    XCTAssertEqual(
      daemon.service.calls,
      [
        "createNetwork(lan,nil,nil,true,false)", "createNetwork(dmz,10.5.0.0/24,10.5.0.9,true,false)",
        "createNetwork(iso,nil,nil,false,true)", "deleteNetwork(lan)",
      ])
    XCTAssertEqual(
      try cella(["network", "list"]).stdout,
      "NAME  SUBNET         GATEWAY     NAT  ISOLATED  BRIDGE  MEMBERS\nlan   10.210.0.0/24  10.210.0.1  yes  no        cb-lan  0\n"
    )
    let json = try cella(["network", "list", "--format", "json"])
    XCTAssertEqual(
      try JSONDecoder().decode([NetworkInfo].self, from: Data(json.stdout.utf8)), [FakeService.network("lan")])
    let show = try cella(["network", "show", "lan"]).stdout
    XCTAssertTrue(show.hasPrefix("Name:     lan\nSubnet:   10.210.0.0/24\n"), show)
    XCTAssertTrue(show.contains("dnsmasq:  not running\n"), show)
  }

  func testSuiteIsRefusedForBusybox() throws {
    let result = try cella(["image", "build", "busybox", "bb", "--suite", "sid"])
    XCTAssertEqual(result.stderr, "cella: image build: --suite is for debian images only\n")
    XCTAssertTrue(daemon.service.calls.isEmpty)
  }

  func testConfigEditPutsTheEditedKeysAndNamesTheLineOfAnError() throws {
    let edited = try cella(["config", "edit", "web"], env: ["EDITOR=sed -i s/1/2/"])
    XCTAssertEqual(edited.status, 0, edited.stderr)
    XCTAssertEqual(daemon.service.calls, ["guestConfig(web)", "replaceGuestConfig(web,[\"a\": \"2\"])"])
    let broken = try cella(["config", "edit", "web"], env: ["EDITOR=sed -i s/a:/a/"])
    XCTAssertEqual(broken.status, 1)
    XCTAssertTrue(broken.stderr.hasPrefix("cella: /tmp/cella-edit-"), broken.stderr)
    XCTAssertTrue(broken.stderr.hasSuffix(".yaml line 3: expected \"key: value\"\n"), broken.stderr)
    XCTAssertEqual(daemon.service.calls.count, 3)
  }

  func testLogsPrintsTheHistoryAndFollowStopsAtTheExit() throws {
    XCTAssertEqual(try cella(["logs", "web"]).stdout, "boot ok\n")
    daemon.service.console = ConsoleAttachment(history: Array("old\n".utf8), keeper: nil)
    let follow = try cella(["logs", "web", "--follow"])
    XCTAssertEqual(follow.status, 0)
    XCTAssertEqual(follow.stdout, "old\n")
    XCTAssertEqual(daemon.service.calls.last, "attachConsole(web,true)")
  }

  /// Not a timed test: with CELLA_HOLD_FAKE_DAEMON=N it serves the fake for N seconds on
  /// /tmp/cella-it-hold/cella.sock, for hyperfine from outside.
  func testHoldFakeDaemonWhenAsked() throws {
    guard let text = getenv("CELLA_HOLD_FAKE_DAEMON"), let seconds = UInt32(String(cString: text)) else { return }
    let server = DaemonServer(service: FakeService(), socketPath: "/tmp/cella-it-hold/cella.sock")
    try server.start()
    sleep(seconds)
    server.stop()
    try rmTree("/tmp/cella-it-hold")
  }
}
