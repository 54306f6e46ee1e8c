import CShims
import CellaSys
import Foundation
import Glibc
import XCTest

@testable import CellaVM

/// The builder's argv run by the real QEMU, stopped before the guest's first instruction (-S): every option,
/// drive, chardev and passed fd is accepted. Skips where QEMU is not installed.
final class QEMUAcceptsArgvTests: XCTestCase {
  func testQEMUAcceptsAQ35ArgvWithAVolatileDiskAPassedConsoleAndAHostSerialPort() throws {
    let dir = try Self.scratch("q35")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // A comma in the disk's name proves the escaping reaches QEMU intact.
    let disk = dir + "/disk,0.raw"
    XCTAssertTrue(FileManager.default.createFile(atPath: disk, contents: Data(count: 1 << 20)))

    var pair: [Int32] = [-1, -1]
    XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair), 0)
    let ptm = cella_pty_open("/dev/ptmx")
    XCTAssertGreaterThanOrEqual(ptm, 0)
    let pts = cella_pty_peer(ptm)
    XCTAssertGreaterThanOrEqual(pts, 0)
    // QEMU inherits these two: the keeper's console end and the "host serial port".
    for fd in [pair[1], pts] { XCTAssertEqual(fcntl(fd, F_SETFD, 0), 0) }
    defer { [pair[0], pair[1], ptm, pts].forEach { _ = close($0) } }

    let vm = VMDescription(
      machine: .q35, accelerator: .tcg, memoryMiB: 64, boot: .firmware,
      disks: [VMDisk(path: disk, format: .raw, volatile: true)], serials: [.consoleFD(pair[1]), .hostFD(pts)],
      clock: .localtime, qmpSocket: dir + "/qmp.sock")
    try assertQEMUAccepts(vm, dir: dir)
  }

  func testQEMUAcceptsAMicrovmArgvBootingAKernelWithItsConsoleOnTheKeepersSocket() throws {
    let boot = (try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? []
    let kernel = try XCTUnwrap(
      boot.sorted().last { $0.hasPrefix("vmlinuz-") }.map { "/boot/" + $0 }, "no /boot/vmlinuz-*")
    let dir = try Self.scratch("microvm")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // The keeper listens first; QEMU connects as it starts.
    let listener = socket(
      AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    defer { close(listener) }
    XCTAssertEqual(withSocketAddress(dir + "/console.sock") { bind(listener, $0, $1) }, 0)
    XCTAssertEqual(listen(listener, 1), 0)
    let vm = VMDescription(
      machine: .microvm, accelerator: .tcg, memoryMiB: 64,
      boot: .kernel(path: kernel, initrd: nil, cmdline: "console=ttyS0"),
      serials: [.consoleSocket(path: dir + "/console.sock")], qmpSocket: dir + "/qmp.sock")
    try assertQEMUAccepts(vm, dir: dir, tscKHz: try HostTSC.kHz())
    // Bounded: a QEMU that never connects (say, one told to listen instead) fails the test, never hangs it.
    var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
    XCTAssertEqual(poll(&ready, 1, 5000), 1, "QEMU did not connect to the console socket within 5 s")
    let console = cella_accept4(listener, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
    XCTAssertGreaterThanOrEqual(console, 0, "QEMU did not connect to the console socket")
    close(console)
  }

  static let qemu = "/usr/bin/qemu-system-x86_64"

  /// A fresh directory for one test's sockets and disks; skips the test where QEMU is not installed.
  static func scratch(_ name: String) throws -> String {
    try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: qemu), "\(qemu) is not installed")
    return makeTestDirectory()
  }

  /// Runs QEMU with the builder's argv and -S, checks it answers QMP in prelaunch, and quits it.
  func assertQEMUAccepts(_ vm: VMDescription, dir: String, tscKHz: Int? = nil) throws {
    let log = open(dir + "/qemu.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    defer { close(log) }
    let pid = try Spawn.start(
      path: Self.qemu, argv: try QEMUCommand.argv(vm, tscKHz: tscKHz) + ["-S"], env: Spawn.toolEnvironment, stdin: log,
      stdout: log, stderr: log)

    // The QMP greeting comes once the machine is built; QEMU exits at once on an option it refuses.
    let qmp = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    defer { close(qmp) }
    // A QEMU that never answers fails the test instead of hanging it.
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(qmp, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var connected = false
    var exited = false
    for _ in 0..<100 where !connected && !exited {
      connected = withSocketAddress(vm.qmpSocket) { connect(qmp, $0, $1) } == 0
      if !connected { usleep(100_000) }
      exited = !connected && waitpid(pid, nil, WNOHANG) == pid
    }
    let output = { (try? String(contentsOfFile: dir + "/qemu.log", encoding: .utf8)) ?? "" }
    guard connected else {
      if !exited {
        kill(pid, SIGKILL)
        _ = try? Processes.wait(pid)
      }
      return XCTFail("QEMU refused the argv: \(output())")
    }
    func line() -> String {
      var bytes: [UInt8] = []
      var b: UInt8 = 0
      while read(qmp, &b, 1) == 1, b != 0x0a { if b != 0x0d { bytes.append(b) } }  // QMP ends lines with CRLF
      return String(decoding: bytes, as: UTF8.self)
    }
    func send(_ command: String) -> String {
      let text = "{\"execute\":\"\(command)\"}\n"
      _ = text.withCString { write(qmp, $0, strlen($0)) }
      return line()
    }
    XCTAssertTrue(line().contains("\"QMP\""))
    XCTAssertEqual(send("qmp_capabilities"), "{\"return\": {}}")
    XCTAssertTrue(send("query-status").contains("\"prelaunch\""))
    _ = send("quit")
    let status = try Processes.wait(pid)
    XCTAssertEqual(status, 0, output())
  }
}
