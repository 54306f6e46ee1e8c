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
    let qemu = "/usr/bin/qemu-system-x86_64"
    try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: qemu), "\(qemu) is not installed")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cella-vmcmd-\(getpid())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
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
    let log = open(dir + "/qemu.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    defer { close(log) }
    let pid = try Spawn.start(
      path: qemu, argv: try QEMUCommand.argv(vm, tscKHz: nil) + ["-S"], env: Spawn.toolEnvironment, stdin: log,
      stdout: log, stderr: log)

    // The QMP greeting comes once the machine is built; QEMU exits at once on an option it refuses.
    let qmp = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    defer { close(qmp) }
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
