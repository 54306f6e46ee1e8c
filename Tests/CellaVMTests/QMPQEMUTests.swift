import CellaVM
import Foundation
import Glibc
import XCTest

/// The client against a real QEMU, where one is installed.
final class QMPQEMUTests: XCTestCase {
  func testARealQEMUAnswersQueryStatusAndExitsOnQuit() throws {
    let qemu = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
      .map { String($0) + "/qemu-system-x86_64" }.first(where: { access($0, X_OK) == 0 })
    guard let qemu else { throw XCTSkip("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)") }
    let dir = "/tmp/cella-it-qmp-qemu-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { _ = try? FileManager.default.removeItem(atPath: dir) }
    let socketPath = dir + "/qmp.sock"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: qemu)
    process.arguments = [
      "-machine", "none", "-nodefaults", "-display", "none", "-S", "-qmp", "unix:\(socketPath),server=on,wait=off",
    ]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    var client: QMPClient?
    let deadline = Date().addingTimeInterval(10)
    while client == nil, Date() < deadline, process.isRunning {
      client = try? QMPClient.connect(path: socketPath, timeout: 5)
      if client == nil { usleep(20_000) }
    }
    let qmp = try XCTUnwrap(client, "QEMU's QMP socket never answered")
    XCTAssertNotNil(qmp.greeting["version"]?["qemu"]?["major"]?.int)
    XCTAssertEqual(try qmp.queryStatus(), QMPStatus(state: .prelaunch, running: false))
    try qmp.quit()
    let exitDeadline = Date().addingTimeInterval(10)
    while process.isRunning, Date() < exitDeadline { usleep(20_000) }
    XCTAssertFalse(process.isRunning, "QEMU still runs after quit")
  }
}
