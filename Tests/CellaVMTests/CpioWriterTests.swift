import CellaSys
import Glibc
import XCTest

@testable import CellaVM

final class CpioWriterTests: XCTestCase {
  private var dir = ""

  override func setUpWithError() throws {
    dir = makeTestDirectory()
  }

  override func tearDownWithError() throws { try? FileIO.removeTree(dir) }

  private func sample() throws -> [UInt8] {
    var w = CpioWriter()
    try w.directory("bin")
    try w.file("bin/hello", mode: 0o755, data: Array("#!/bin/sh\necho hi\n".utf8))
    try w.symlink("init", target: "bin/hello")
    try w.directory("dev")
    try w.characterDevice("dev/console", major: 5, minor: 1)
    try w.file("odd", data: [1, 2, 3])
    return w.finish()
  }

  func testEveryEntryAndTheTrailerAreFourByteAligned() throws {
    let archive = try sample()
    XCTAssertEqual(archive.count % 4, 0)
    XCTAssertEqual(Array(archive.prefix(6)), Array("070701".utf8))
    // The first header: inode 1, a 0755 directory, name "bin" (4 bytes with its NUL).
    XCTAssertEqual(String(decoding: archive[6..<22], as: UTF8.self), "00000001000041ED")
    XCTAssertEqual(String(decoding: archive[94..<102], as: UTF8.self), "00000004")
    XCTAssertEqual(String(decoding: archive[110..<113], as: UTF8.self), "bin")
    XCTAssertNotNil(String(decoding: archive, as: UTF8.self).range(of: "TRAILER!!!"))
  }

  func testCpioListsTheArchiveBackAndExtractsItsContents() throws {
    guard let cpio = KernelTool.find("cpio") else { throw XCTSkip("cpio is not installed") }
    try FileIO.writeAtomically(path: dir + "/a.cpio", try sample(), durable: false)
    let list = open(dir + "/list", O_WRONLY | O_CREAT, 0o600)
    let input = open(dir + "/a.cpio", O_RDONLY)
    let run = try KernelTool.run(cpio, ["-t", "--quiet"], stdin: input, stdout: list, timeout: 10)
    close(list)
    close(input)
    XCTAssertEqual(run.exitCode, 0, run.stderr)
    XCTAssertEqual(try FileIO.readString(dir + "/list"), "bin\nbin/hello\ninit\ndev\ndev/console\nodd\n")
    mkdir(dir + "/x", 0o755)
    let again = open(dir + "/a.cpio", O_RDONLY)
    defer { close(again) }
    let out = try KernelTool.run(
      cpio, ["-id", "--quiet", "-D", dir + "/x", "--no-absolute-filenames"], stdin: again, timeout: 10)
    XCTAssertEqual(out.exitCode, 0, out.stderr)
    XCTAssertEqual(try FileIO.readString(dir + "/x/bin/hello"), "#!/bin/sh\necho hi\n")
    XCTAssertEqual(try FileIO.read(dir + "/x/odd"), [1, 2, 3])
    var st = stat()
    XCTAssertEqual(stat(dir + "/x/bin/hello", &st), 0)
    XCTAssertEqual(st.st_mode & 0o7777, 0o755)
    XCTAssertEqual(lstat(dir + "/x/init", &st), 0)
    XCTAssertEqual(st.st_mode & S_IFMT, S_IFLNK)
  }

  func testANameThatClimbsOutOrIsAbsoluteIsRefused() {
    var w = CpioWriter()
    for bad in ["/etc/passwd", "a/../../b", "", "a//b", "TRAILER!!!"] {
      XCTAssertThrowsError(try w.file(bad, data: [])) {
        XCTAssertTrue(($0 as! VMError).message.hasPrefix("cpio: \"\(bad)\": a name must be relative"), "\($0)")
      }
    }
  }

  func testTheSameEntriesGiveTheSameBytes() throws {
    XCTAssertEqual(try sample(), try sample())
  }
}
