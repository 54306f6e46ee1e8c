import CShims
import CellaSys
import Foundation
import Glibc
import XCTest

@testable import CellaVM

/// cella-agent as a real VM's init under TCG, and `cella-agent exec` against it over virtio-serial.
final class AgentBootTests: XCTestCase {
  private var dir = ""
  private var vm: AgentVM!

  override func setUpWithError() throws {
    dir = makeTestDirectory()
    vm = AgentVM(dir: dir)
  }

  override func tearDownWithError() throws {
    vm.stop()
    try? FileIO.removeTree(dir)
  }

  static let config = GuestBootConfig(
    hostname: "vm-test",
    command: ["/bin/sh", "-c", "echo CMD-START; while [ ! -e /run/stop ]; do sleep 0.1; done; echo CMD-END"],
    env: ["PATH=/usr/bin:/bin:/usr/sbin:/sbin"],
    nics: [.init(mac: "52:54:00:12:34:56", address: "10.9.8.7/24", gateway: "10.9.8.1")], dns: ["10.9.8.1"],
    hosts: "127.0.0.1 localhost\n10.9.8.7 vm-test\n", agentPorts: 2)

  func testTheAgentBootsTheRootRunsTheCommandServesExecsAndPowersOffWhenItExits() throws {
    // A NIC without a backend: enough for the guest to find it by MAC and configure it.
    try vm.boot(Self.config, extraQEMU: ["-device", "virtio-net-device,mac=52:54:00:12:34:56"])
    let boot = try XCTUnwrap(vm.waitForConsole("CMD-START", timeout: 60), vm.consoleText)
    print("microvm/TCG: QEMU start to the guest command's first line: \(boot) s")

    let piped = try vm.client(["--", "sh", "-c", "cat; echo to-err >&2; exit 3"], input: "piped-in\n")
    XCTAssertEqual(piped.status, 3, piped.stderr)
    XCTAssertEqual(piped.stdout, "piped-in\n")
    XCTAssertEqual(piped.stderr, "to-err\n")

    let t0 = AgentVM.now()
    XCTAssertEqual(try vm.client(["--", "true"]).status, 0)
    print("exec round trip of `true`: \(AgentVM.now() - t0) s")

    let who = try vm.client([
      "--user", "1000:1000", "--cwd", "/tmp", "--env", "X=y", "--", "sh", "-c",
      "echo $(id -u):$(id -g):$PWD:$X:$(hostname); cat /etc/resolv.conf /etc/hosts; ip addr show; ip route",
    ])
    XCTAssertEqual(who.status, 0, who.stderr)
    for expected in [
      "1000:1000:/tmp:y:vm-test", "nameserver 10.9.8.1", "10.9.8.7 vm-test", "inet 10.9.8.7/24",
      "default via 10.9.8.1",
    ] {
      XCTAssertTrue(who.stdout.contains(expected), "\(expected) not in: \(who.stdout)")
    }

    let missing = try vm.client(["--", "no-such-command"])
    XCTAssertEqual(missing.status, 127)
    XCTAssertEqual(missing.stderr, "cella-agent exec: no-such-command: executable file not found in PATH\n")

    // Two sessions at once on the two ports; a third finds them busy.
    let a = try vm.startClient(["--", "sh", "-c", "sleep 2; echo A"])
    let b = try vm.startClient(["--", "sh", "-c", "sleep 2; echo B"])
    usleep(1_000_000)
    let third = try vm.client(["--", "true"])
    XCTAssertEqual(third.status, 125)
    XCTAssertTrue(third.stderr.contains("all 2 agent ports are busy"), third.stderr)
    let (ra, rb) = (a.finish(), b.finish())
    XCTAssertEqual([ra.status, rb.status], [0, 0], ra.stderr + rb.stderr)
    XCTAssertEqual(ra.stdout + rb.stdout, "A\nB\n")

    try checkTerminal()
    try checkSignalAndDisconnect()
    try checkTheEndOfStdinReachesTheCommand()
    try checkStdinBeyondTheCommandsEnd()

    // The command's end powers the VM off, which may take this session with it before its exit frame.
    let stop = try vm.client(["--", "touch", "/run/stop"])
    XCTAssertTrue([0, 125].contains(stop.status), stop.stderr)
    let status = vm.waitForExit(timeout: 30)
    XCTAssertEqual(status, 0, "QEMU did not power off: \(vm.consoleText)")
    XCTAssertTrue(vm.consoleText.contains("CMD-END"), vm.consoleText)
    XCTAssertFalse(vm.consoleText.contains("cella-agent:"), vm.consoleText)
    XCTAssertFalse(vm.consoleText.contains("Kernel panic"), vm.consoleText)
  }

  /// `--tty --console-socket`: the master comes to the caller; its size and input reach the guest's pty.
  private func checkTerminal() throws {
    let path = dir + "/tty.sock"
    let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    defer { close(listener) }
    XCTAssertEqual(withSocketAddress(path, { bind(listener, $0, $1) }), 0)
    XCTAssertEqual(listen(listener, 1), 0)
    let client = try vm.startClient([
      "--tty", "--console-socket", path, "--", "sh", "-c", "read x; stty size; tty; echo got-$x; exit 5",
    ])
    var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
    XCTAssertEqual(poll(&p, 1, 20_000), 1, "no terminal sent")
    let conn = cella_accept4(listener, Int32(SOCK_CLOEXEC.rawValue))
    var buf = [UInt8](repeating: 0, count: 256)
    var master: Int32 = -1
    _ = cella_recv_with_fd(conn, &buf, buf.count, &master)
    close(conn)
    XCTAssertGreaterThanOrEqual(master, 0)
    defer { close(master) }
    XCTAssertEqual(cella_set_winsize(master, 30, 100), 0)
    _ = "go\n".withCString { write(master, $0, 3) }
    var text = ""
    let end = AgentVM.now() + 20
    while !text.contains("got-go") && AgentVM.now() < end {
      var q = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
      guard poll(&q, 1, 500) == 1 else { continue }
      let n = read(master, &buf, buf.count)
      if n <= 0 { break }
      text += String(decoding: buf[0..<n], as: UTF8.self)
    }
    let result = client.finish()
    XCTAssertEqual(result.status, 5, result.stderr)
    XCTAssertTrue(text.contains("30 100"), text)
    XCTAssertTrue(text.contains("/dev/pts/"), text)
  }

  /// A signal to the client reaches the command; a client killed outright takes its session with it.
  private func checkSignalAndDisconnect() throws {
    let term = try vm.startClient(["--", "sleep", "30"])
    usleep(1_500_000)
    kill(term.process.processIdentifier, SIGTERM)
    XCTAssertEqual(term.finish(timeout: 10).status, 128 + SIGTERM)

    let killed = try vm.startClient(["--", "sh", "-c", "sleep 300"])
    usleep(1_500_000)
    kill(killed.process.processIdentifier, SIGKILL)
    _ = killed.finish()
    var left = ""
    for _ in 0..<20 {
      left = try vm.client(["--", "ps", "-o", "args"]).stdout
      if !left.contains("sleep 300") { break }
      usleep(200_000)
    }
    XCTAssertFalse(left.contains("sleep 300"), left)
  }

  /// The end of the client's stdin closes the command's, however soon it comes: at once, or right after a
  /// little input (whether it reaches the agent with the exec request, with the input, or on its own).
  private func checkTheEndOfStdinReachesTheCommand() throws {
    for round in 1...20 {
      let empty = try vm.client(["--", "sh", "-c", "cat >/dev/null; exit 7"], stdin: .text(""), timeout: 15)
      XCTAssertEqual(empty.status, 7, "round \(round), stdin at its end from the start: \(empty.stderr)")
      let short = try vm.client(["--", "sh", "-c", "cat >/tmp/kept; exit 7"], stdin: .text("kept\n"), timeout: 15)
      XCTAssertEqual(short.status, 7, "round \(round), a line then the end: \(short.stderr)")
      // A hang costs the timeout: one is proof enough.
      if empty.timedOut || short.timedOut { return }
    }
    XCTAssertEqual(try vm.client(["--", "cat", "/tmp/kept"]).stdout, "kept\n")
  }

  /// Input the command never reads, or that keeps coming after it exited, neither blocks the exit status nor
  /// breaks the port; megabytes of input arrive whole.
  private func checkStdinBeyondTheCommandsEnd() throws {
    let big = dir + "/big-input"
    let size = 4 << 20
    try FileIO.writeAtomically(path: big, [UInt8](repeating: 0x61, count: size), durable: false)
    let counted = try vm.client(["--", "sh", "-c", "cat | wc -c"], stdin: .file(big), timeout: 60)
    XCTAssertEqual(counted.status, 0, counted.stderr)
    XCTAssertEqual(counted.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "\(size)")

    let unread = try vm.client(["--", "sh", "-c", "exit 4"], stdin: .file(big), timeout: 60)
    XCTAssertEqual(unread.status, 4, unread.stderr)
    let open = try vm.client(["--", "sh", "-c", "exit 6"], stdin: .held, timeout: 15)
    XCTAssertEqual(open.status, 6, open.stderr)
    // The ports still serve.
    for _ in 0..<3 { XCTAssertEqual(try vm.client(["--", "true"], timeout: 15).status, 0) }
  }

  func testAFailureBeforeTheCommandIsOneConsoleLineAndAPowerOff() throws {
    var config = Self.config
    config.rootDevice = "/dev/vdz"
    try vm.boot(config)
    XCTAssertEqual(vm.waitForExit(timeout: 60), 0, "QEMU did not power off: \(vm.consoleText)")
    let lines = vm.consoleText.split(separator: "\n").filter { $0.contains("cella-agent") }
    XCTAssertEqual(lines.count, 1, vm.consoleText)
    XCTAssertTrue(lines.first?.contains("cella-agent: root device /dev/vdz: missing") == true, "\(lines)")
    XCTAssertFalse(vm.consoleText.contains("Kernel panic"), vm.consoleText)
  }

  func testExecWithoutAnAnsweringAgentIsOneLineSayingSo() throws {
    // A socket that accepts and never answers: a VM booted from a foreign disk.
    let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    defer { close(listener) }
    XCTAssertEqual(withSocketAddress(dir + "/agent-1.sock", { bind(listener, $0, $1) }), 0)
    XCTAssertEqual(listen(listener, 1), 0)
    let silent = try vm.client(["--name", "legacy", "--timeout", "1", "--", "true"])
    XCTAssertEqual(silent.status, 125)
    XCTAssertTrue(
      silent.stderr.hasPrefix("cella-agent exec: guest legacy: no cella agent answers (a VM from a foreign disk"),
      silent.stderr)
    XCTAssertEqual(silent.stderr.filter { $0 == "\n" }.count, 1)

    let bad = try vm.client(["--cwd", "relative", "--", "true"])
    XCTAssertEqual(bad.status, 125)
    XCTAssertTrue(bad.stderr.hasPrefix("cella-agent exec: --cwd: \"relative\" is not absolute"), bad.stderr)
  }
}
