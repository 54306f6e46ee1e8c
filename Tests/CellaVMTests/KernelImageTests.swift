import CellaSys
import Glibc
import XCTest

@testable import CellaVM

final class KernelImageTests: XCTestCase {
  private var dir = ""

  override func setUpWithError() throws {
    dir = makeTestDirectory()
  }

  override func tearDownWithError() throws { try? FileIO.removeTree(dir) }

  /// A minimal x86-64 ELF: header, one PT_NOTE program header, then `notes`.
  static func elf(notes: [UInt8]) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 64 + 56)
    b.replaceSubrange(0..<6, with: [0x7f, 0x45, 0x4c, 0x46, 2, 1])
    put16(&b, 18, 62)
    put64(&b, 32, 64)
    put16(&b, 54, 56)
    put16(&b, 56, 1)
    put32(&b, 64, 4)  // PT_NOTE
    put64(&b, 64 + 8, UInt64(b.count))
    put64(&b, 64 + 32, UInt64(notes.count))
    return b + notes
  }

  static func note(name: String, type: UInt32, desc: [UInt8]) -> [UInt8] {
    var n = [UInt8](repeating: 0, count: 12)
    let nameBytes = Array(name.utf8) + [0]
    put32(&n, 0, UInt32(nameBytes.count))
    put32(&n, 4, UInt32(desc.count))
    put32(&n, 8, type)
    n += nameBytes + [UInt8](repeating: 0, count: (4 - nameBytes.count % 4) % 4)
    return n + desc + [UInt8](repeating: 0, count: (4 - desc.count % 4) % 4)
  }

  /// A bzImage shell: setup header with `HdrS`, protocol 2.15, one setup sector, then `payload`.
  static func bzImage(payload: [UInt8]) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 1024)
    b[0x1f1] = 1
    b.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
    put16(&b, 0x206, 0x020f)
    put32(&b, 0x248, 16)
    put32(&b, 0x24c, UInt32(payload.count))
    return b + [UInt8](repeating: 0, count: 16) + payload
  }

  static let pvhELF = elf(
    notes: note(name: "GNU", type: 3, desc: [1, 2, 3, 4, 5])
      + note(name: "Xen", type: 18, desc: [0x00, 0x10, 0x00, 0x01]))

  func testAPVHNoteAfterOtherNotesGivesTheEntryAddress() throws {
    let elf = Self.pvhELF
    XCTAssertEqual(try KernelImage.pvhEntry(path: "k") { Array(elf.dropFirst($0).prefix($1)) }, 0x0100_1000)
  }

  func testAnELFWithoutThePVHNoteIsRefusedNamingConfigPVH() {
    let elf = Self.elf(notes: Self.note(name: "Xen", type: 17, desc: [0, 0, 0, 0]))
    XCTAssertThrowsError(try KernelImage.pvhEntry(path: "k") { Array(elf.dropFirst($0).prefix($1)) }) {
      XCTAssertTrue(($0 as! VMError).message.hasPrefix("k: no PVH entry note"), "\($0)")
    }
  }

  func testAFileThatIsNotELFIsRefused() {
    let bytes = [UInt8](repeating: 0x41, count: 200)
    XCTAssertThrowsError(try KernelImage.pvhEntry(path: "k") { Array(bytes.dropFirst($0).prefix($1)) }) {
      XCTAssertEqual(($0 as! VMError).message, "k: not an ELF file")
    }
  }

  func testThePayloadIsFoundFromTheBootHeaderAndItsCompressionFromItsMagic() throws {
    let image = Self.bzImage(payload: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 9, 9, 9, 9])
    XCTAssertEqual(
      try KernelImage.payload(ofBzImage: image, path: "z"), .init(offset: 1040, length: 10, compression: .xz))
    XCTAssertEqual(KernelImage.Compression.detect([0x28, 0xb5, 0x2f, 0xfd, 0][...]), .zstd)
    XCTAssertEqual(KernelImage.Compression.detect([0x1f, 0x8b, 8][...]), .gzip)
  }

  func testAFileWithoutTheBootHeaderIsNotABzImage() {
    XCTAssertThrowsError(try KernelImage.payload(ofBzImage: [UInt8](repeating: 0, count: 4096), path: "z")) {
      XCTAssertEqual(($0 as! VMError).message, "z: not a bzImage (no HdrS boot header)")
    }
  }

  func testAPayloadReachingPastTheFileIsRefused() {
    var image = Self.bzImage(payload: [0x1f, 0x8b, 0, 0, 0, 0])
    Self.put32(&image, 0x24c, 1 << 20)
    XCTAssertThrowsError(try KernelImage.payload(ofBzImage: image, path: "z")) {
      XCTAssertTrue(($0 as! VMError).message.contains("lies outside the file"), "\($0)")
    }
  }

  func testAGzipPayloadIsDecompressedToTheELFItHolds() throws {
    try roundTrip(tool: "gzip", args: ["-c"], trailer: [])
  }

  func testAnXzPayloadWithTheKernelsSizeTrailerIsDecompressedToTheELFItHolds() throws {
    try roundTrip(tool: "xz", args: ["-c", "--check=crc32"], trailer: [0x78, 0, 0, 0])
  }

  func testACorruptPayloadFailsNamingTheDecompressorAndLeavesNoOutput() throws {
    let image = Self.bzImage(payload: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] + [UInt8](repeating: 7, count: 64))
    try FileIO.writeAtomically(path: dir + "/bz", image, durable: false)
    XCTAssertThrowsError(try KernelImage.extractVmlinux(from: dir + "/bz", to: dir + "/vmlinux")) {
      XCTAssertTrue(($0 as! VMError).message.hasPrefix("\(dir)/bz: xz -dc failed"), "\($0)")
    }
    XCTAssertEqual(try FileIO.listDirectory(dir).sorted(), ["bz"])
  }

  func testTheDebianKernelYieldsAVmlinuxWithAPVHEntry() throws {
    let kernels = ((try? FileIO.listDirectory("/boot")) ?? []).filter {
      $0.hasPrefix("vmlinuz-") && $0.hasSuffix("-amd64")
    }
    guard let kernel = kernels.sorted().last else {
      throw XCTSkip("no /boot/vmlinuz-*-amd64 (install linux-image-amd64)")
    }
    let started = KernelTool.monotonicSeconds()
    let entry = try KernelImage.extractVmlinux(from: "/boot/" + kernel, to: dir + "/vmlinux")
    print(
      "extracted /boot/\(kernel) in \(KernelTool.monotonicSeconds() - started) s, PVH entry 0x\(String(entry, radix: 16))"
    )
    XCTAssertNotEqual(entry, 0)
    XCTAssertEqual(try KernelImage.pvhEntry(path: "v", file: dir + "/vmlinux"), entry)
  }

  private func roundTrip(tool: String, args: [String], trailer: [UInt8]) throws {
    guard let path = KernelTool.find(tool) else { throw XCTSkip("\(tool) is not installed") }
    try FileIO.writeAtomically(path: dir + "/elf", Self.pvhELF, durable: false)
    let input = open(dir + "/elf", O_RDONLY)
    let output = open(dir + "/elf.c", O_WRONLY | O_CREAT, 0o600)
    _ = try KernelTool.run(path, args, stdin: input, stdout: output, timeout: 10)
    close(input)
    close(output)
    let compressed = try FileIO.read(dir + "/elf.c")
    try FileIO.writeAtomically(path: dir + "/bz", Self.bzImage(payload: compressed + trailer), durable: false)
    XCTAssertEqual(try KernelImage.extractVmlinux(from: dir + "/bz", to: dir + "/vmlinux"), 0x0100_1000)
    XCTAssertEqual(try FileIO.read(dir + "/vmlinux"), Self.pvhELF)
  }

  static func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) {
    for i in 0..<2 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
  }
  static func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
    for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
  }
  static func put64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
    for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
  }
}
