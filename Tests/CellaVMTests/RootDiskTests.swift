import CellaSys
import Glibc
import XCTest

@testable import CellaVM

/// RootDisk with the real mkfs.ext4, its result read back with debugfs and checked with e2fsck.
final class RootDiskTests: XCTestCase {
  private var dir = ""

  override func setUpWithError() throws {
    for tool in ["mkfs.ext4", "debugfs", "e2fsck"] where KernelTool.find(tool) == nil {
      throw XCTSkip("\(tool) missing (install e2fsprogs)")
    }
    dir = makeTestDirectory()
  }

  override func tearDownWithError() throws { if !dir.isEmpty { try? FileIO.removeTree(dir) } }

  /// A tool's stdout, through a file in the test directory.
  private func output(_ tool: String, _ args: [String]) throws -> (Int32, String) {
    let path = dir + "/tool.out"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let run = try KernelTool.run(KernelTool.find(tool)!, args, stdout: fd, timeout: 30)
    close(fd)
    return (run.exitCode, try FileIO.readString(path))
  }

  private func tree() throws -> String {
    let tree = dir + "/tree"
    for d in ["", "/bin", "/home", "/home/user", "/dev"] { XCTAssertEqual(mkdir(tree + d, 0o755), 0) }
    try FileIO.writeAtomically(path: tree + "/bin/tool", Array("#!/bin/sh\n".utf8), mode: 0o755, durable: false)
    XCTAssertEqual(chmod(tree + "/bin/tool", 0o4755), 0)
    XCTAssertEqual(link(tree + "/bin/tool", tree + "/bin/tool-again"), 0)
    try FileIO.writeAtomically(path: tree + "/home/user/notes", Array("mine\n".utf8), durable: false)
    XCTAssertEqual(chown(tree + "/home/user/notes", 1000, 1000), 0)
    XCTAssertEqual(chown(tree + "/home/user", 1000, 1000), 0)
    XCTAssertEqual(symlink("/bin/tool", tree + "/bin/sh"), 0)
    XCTAssertEqual(mknod(tree + "/dev/null", S_IFCHR | 0o666, dev_t(1 << 8 | 3)), 0)
    XCTAssertEqual(chmod(tree + "/dev/null", 0o666), 0)
    return tree
  }

  func testTheTreeIsCopiedWithOwnersModesLinksAndDeviceNodes() throws {
    let disk = dir + "/root.ext4"
    let built = try RootDisk.build(rootfs: try tree(), output: disk)
    var st = stat()
    XCTAssertEqual(stat(disk, &st), 0)
    XCTAssertEqual(st.st_mode & 0o7777, 0o644)
    XCTAssertEqual(UInt64(st.st_size), built.size)
    XCTAssertGreaterThanOrEqual(built.size, RootDisk.defaultFreeSpace)
    // Sparse: the free space costs nothing on the host.
    XCTAssertLessThan(Int(st.st_blocks) * 512, 8 << 20)
    XCTAssertFalse(FileIO.exists(disk + ".tmp"))

    let (fsck, report) = try output("e2fsck", ["-fn", disk])
    XCTAssertEqual(fsck, 0, report)
    let (_, stats) = try output("debugfs", ["-R", "stats", disk])
    XCTAssertTrue(stats.contains("Filesystem volume name:   cella-root"), stats)
    XCTAssertTrue(stats.contains("has_journal"), stats)
    let (_, notes) = try output("debugfs", ["-R", "stat /home/user/notes", disk])
    XCTAssertTrue(notes.contains("User:  1000   Group:  1000"), notes)
    let (_, tool) = try output("debugfs", ["-R", "stat /bin/tool", disk])
    XCTAssertTrue(tool.contains("Mode:  04755"), tool)
    XCTAssertTrue(tool.contains("Links: 2"), tool)
    let (_, dev) = try output("debugfs", ["-R", "ls -l /dev", disk])
    XCTAssertTrue(dev.contains("20666"), dev)
    let (_, bin) = try output("debugfs", ["-R", "ls -l /bin", disk])
    XCTAssertTrue(bin.contains("120777"), bin)
    let (_, cat) = try output("debugfs", ["-R", "cat /home/user/notes", disk])
    XCTAssertEqual(cat, "mine\n")
  }

  func testAMissingTreeIsOneLineAndLeavesNothing() {
    do {
      try RootDisk.build(rootfs: dir + "/nope", output: dir + "/root.ext4")
      XCTFail("built a disk of a missing tree")
    } catch {
      XCTAssertEqual(error.message, "\(dir)/nope: not a directory (a root filesystem tree is needed)")
    }
    XCTAssertEqual(try FileIO.listDirectory(dir), [])
  }

  func testAFailingMkfsIsOneLineNamingTheOutput() throws {
    let tree = try tree()
    do {
      try RootDisk.build(rootfs: tree, output: dir + "/gone/root.ext4")
      XCTFail("built into a missing directory")
    } catch {
      XCTAssertTrue(error.message.hasPrefix("\(dir)/gone/root.ext4: mkfs.ext4 -d \(tree) failed (exit "), error.message)
    }
  }

  func testTheBusyboxImageTreeBuildsQuickly() throws {
    guard access("/bin/busybox", X_OK) == 0 else { throw XCTSkip("no /bin/busybox (install busybox-static)") }
    let script = URLlessPath.repoRoot + "/RootFS/busybox.sh"
    let run = try KernelTool.run("/bin/sh", [script, dir + "/busybox"], timeout: 60)
    XCTAssertEqual(run.exitCode, 0, run.stderr)
    let started = KernelTool.monotonicSeconds()
    let built = try RootDisk.build(rootfs: dir + "/busybox", output: dir + "/busybox.ext4")
    let seconds = KernelTool.monotonicSeconds() - started
    var st = stat()
    XCTAssertEqual(stat(dir + "/busybox.ext4", &st), 0)
    print(
      "RootDisk of the busybox tree (\(built.treeInodes) inodes, \(built.treeBytes >> 10) KiB): \(seconds) s, "
        + "\(built.size >> 20) MiB virtual, \(Int(st.st_blocks) / 2) KiB on disk")
    XCTAssertLessThan(seconds, 20)
  }
}

/// The package's root, from this file's path (Tests/CellaVMTests/...).
enum URLlessPath {
  static var repoRoot: String {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
  }
}
