import CellaSys
import Foundation
import Glibc
import XCTest

@testable import CellaVM

/// A microvm under TCG booting the host's kernel into cella-agent as init, from an initramfs assembled here
/// (agent, the modules it loads, guest.json) and an ext4 root made of a busybox tree; the test's own stand-in
/// for part A's VMInitramfs.
final class AgentVM {
  /// What the guest loads, dependencies first (paths under /lib/modules/<release>).
  static let modules = [
    "kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko",
    "kernel/drivers/virtio/virtio_mmio.ko", "kernel/drivers/block/virtio_blk.ko",
    "kernel/drivers/char/virtio_console.ko", "kernel/net/core/failover.ko", "kernel/drivers/net/net_failover.ko",
    "kernel/drivers/net/virtio_net.ko", "kernel/lib/crc16.ko", "kernel/fs/mbcache.ko", "kernel/fs/jbd2/jbd2.ko",
    "kernel/crypto/crc32c_generic.ko", "kernel/fs/ext4/ext4.ko",
  ]

  let dir: String
  var pid: pid_t = 0
  var started = 0.0
  var console: String { dir + "/console" }

  init(dir: String) { self.dir = dir }

  /// The package's built agent (CELLA_AGENT overrides), or a skip.
  static func agentPath() throws -> String {
    let path = ProcessInfo.processInfo.environment["CELLA_AGENT"] ?? packageRoot() + "/.build/debug/cella-agent"
    guard access(path, X_OK) == 0 else { throw XCTSkip("no cella-agent at \(path) (swift build, or set CELLA_AGENT)") }
    return path
  }

  /// The package root, found from this file's path (Tests/CellaVMTests/…).
  static func packageRoot(file: String = #filePath) -> String {
    var url = URL(fileURLWithPath: file)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }

  /// Builds kernel, initramfs and root disk, and starts QEMU in the background.
  func boot(_ config: GuestBootConfig, extraQEMU: [String] = []) throws {
    let qemu = "/usr/bin/qemu-system-x86_64"
    guard access(qemu, X_OK) == 0 else { throw XCTSkip("\(qemu) missing (install qemu-system-x86)") }
    let kernels = ((try? FileIO.listDirectory("/boot")) ?? []).filter {
      $0.hasPrefix("vmlinuz-") && $0.hasSuffix("-amd64")
    }
    guard let kernel = kernels.sorted().last else { throw XCTSkip("no /boot/vmlinuz-*-amd64 (linux-image-amd64)") }
    let release = String(kernel.dropFirst("vmlinuz-".count))
    guard let mkfs = Spawn.findTool("mkfs.ext4") else { throw XCTSkip("no mkfs.ext4 (e2fsprogs)") }
    let agent = try Self.agentPath()
    try KernelImage.extractVmlinux(from: "/boot/" + kernel, to: dir + "/vmlinux")

    var cpio = CpioWriter()
    for d in ["dev", "proc", "sys", "newroot", "cella"] { try cpio.directory(d) }
    try cpio.characterDevice("dev/console", major: 5, minor: 1)
    try cpio.file("init", mode: 0o755, data: try FileIO.read(agent, limit: 256 << 20))
    try cpio.file("cella/modules", data: Array((Self.modules.joined(separator: "\n") + "\n").utf8))
    try cpio.file("cella/guest.json", data: config.encoded())
    var made: Set<String> = []
    for module in Self.modules {
      let parts = ("lib/modules/\(release)/" + module).split(separator: "/").map(String.init)
      for i in 1..<parts.count {
        let d = parts[..<i].joined(separator: "/")
        if made.insert(d).inserted { try cpio.directory(d) }
      }
      try cpio.file(parts.joined(separator: "/"), data: try FileIO.read("/lib/modules/\(release)/\(module)"))
    }
    try FileIO.writeAtomically(path: dir + "/initrd", cpio.finish(), durable: false)

    let script = Self.packageRoot() + "/RootFS/busybox.sh"
    let tree = try KernelTool.run("/bin/sh", [script, dir + "/rootfs"], timeout: 60)
    guard tree.exitCode == 0 else { throw XCTSkip("RootFS/busybox.sh: \(tree.stderr)") }
    let fs = try KernelTool.run(
      mkfs, ["-q", "-d", dir + "/rootfs", "-L", "cella-root", dir + "/root.ext4", "32M"], timeout: 60)
    XCTAssertEqual(fs.exitCode, 0, fs.stderr)

    let vm = VMDescription(
      machine: .microvm, accelerator: .tcg, memoryMiB: 256,
      boot: .kernel(path: dir + "/vmlinux", initrd: dir + "/initrd", cmdline: "console=ttyS0 quiet panic=-1"),
      disks: [VMDisk(path: dir + "/root.ext4", format: .raw)], qmpSocket: dir + "/qmp.sock",
      agentSockets: (1...config.agentPorts).map { "\(dir)/agent-\($0).sock" })
    let argv =
      try QEMUCommand.argv(vm, tscKHz: HostTSC.kHz(), executable: qemu) + ["-serial", "file:\(console)"]
      + extraQEMU
    let log = open(dir + "/qemu.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    defer { close(log) }
    let devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer { close(devnull) }
    started = Self.now()
    pid = try Spawn.start(
      path: qemu, argv: argv, env: Spawn.toolEnvironment, stdin: devnull, stdout: log, stderr: log, newSession: true,
      closeOthers: true)
  }

  /// Seconds from QEMU's start until `text` is on the console, nil after `timeout`.
  func waitForConsole(_ text: String, timeout: Double) -> Double? {
    while Self.now() - started < timeout {
      if ((try? FileIO.readString(console)) ?? "").contains(text) { return Self.now() - started }
      usleep(50_000)
    }
    return nil
  }

  /// QEMU's exit status once it exits by itself within `timeout`, nil if it did not.
  func waitForExit(timeout: Double) -> Int32? {
    let end = Self.now() + timeout
    while Self.now() < end {
      var status: Int32 = 0
      if waitpid(pid, &status, WNOHANG) == pid {
        pid = 0
        return status
      }
      usleep(50_000)
    }
    return nil
  }

  func stop() {
    guard pid > 0 else { return }
    kill(pid, SIGKILL)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    pid = 0
  }

  var consoleText: String { (try? FileIO.readString(console)) ?? "" }

  /// What a client reads as its stdin.
  enum Input {
    /// A pipe holding the text, then at its end.
    case text(String)
    /// The file at the path.
    case file(String)
    /// A pipe the test keeps open until `finish`: its end never comes while the command runs.
    case held
  }

  /// `cella-agent exec --dir DIR ARGS…`, started (call `finish` on the result).
  func startClient(_ args: [String], input: String? = nil) throws -> Client {
    try startClient(args, stdin: .text(input ?? ""))
  }

  func startClient(_ args: [String], stdin: Input) throws -> Client {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try Self.agentPath())
    p.arguments = ["exec", "--dir", dir] + args
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    var held: FileHandle? = nil
    switch stdin {
    case .file(let path):
      p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
      try p.run()
    case .text(let text):
      let inp = Pipe()
      p.standardInput = inp
      try p.run()
      if !text.isEmpty { inp.fileHandleForWriting.write(Data(text.utf8)) }
      try inp.fileHandleForWriting.close()
    case .held:
      let inp = Pipe()
      p.standardInput = inp
      try p.run()
      held = inp.fileHandleForWriting
    }
    return Client(process: p, out: out, err: err, held: held)
  }

  /// Runs a client to its end (bounded).
  func client(_ args: [String], input: String? = nil, timeout: Double = 30) throws -> Client.Result {
    try startClient(args, input: input).finish(timeout: timeout)
  }

  /// Runs a client to its end (bounded).
  func client(_ args: [String], stdin: Input, timeout: Double = 30) throws -> Client.Result {
    try startClient(args, stdin: stdin).finish(timeout: timeout)
  }

  struct Client {
    let process: Process
    let out: Pipe
    let err: Pipe
    var held: FileHandle? = nil

    struct Result {
      let status: Int32
      let stdout: String
      let stderr: String
      /// The client was still running at the timeout (and was killed).
      let timedOut: Bool
    }

    func finish(timeout: Double = 30) -> Result {
      let end = AgentVM.now() + timeout
      while process.isRunning && AgentVM.now() < end { usleep(20_000) }
      let timedOut = process.isRunning
      if timedOut { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
      try? held?.close()
      let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      return Result(status: process.terminationStatus, stdout: o, stderr: e, timedOut: timedOut)
    }
  }

  static func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
  }
}
