import CellaErrors
import CellaSys
import Glibc

/// qemu-img, run within a deadline: the one way cella reads and makes disk images.
public enum QEMUImg {
  /// How long one qemu-img run may take: they only read headers or write metadata.
  static let timeout: Double = 30

  /// Creates `output` (replaced atomically): a qcow2 whose backing file is `base` (made absolute, with
  /// its format named so QEMU never probes it), of `size` bytes (nil: the base's virtual size).
  public static func createOverlay(base: String, baseFormat: VMDiskFormat, output: String, size: UInt64? = nil)
    throws(VMError)
  {
    guard base.hasPrefix("/") else {
      throw VMError(.invalidArgument, "\(output): backing file \(base) must be an absolute path")
    }
    let part = output + ".tmp"
    unlink(part)
    var args = ["create", "-q", "-f", "qcow2", "-b", base, "-F", baseFormat.rawValue, part]
    if let size { args.append(String(size)) }
    do { _ = try run(args, about: output) } catch {
      unlink(part)
      throw error
    }
    if rename(part, output) != 0 {
      let code = errno
      unlink(part)
      throw VMError("\(output): rename", errno: code)
    }
  }

  /// Grows (or shrinks, with `shrink`) the virtual size of the image at `path` to `size` bytes.
  public static func resize(_ path: String, format: VMDiskFormat, size: UInt64, shrink: Bool = false) throws(VMError) {
    _ = try run(
      ["resize", "-q", "-f", format.rawValue] + (shrink ? ["--shrink"] : []) + [path, String(size)], about: path)
  }

  /// Runs qemu-img with `args` and returns what it wrote to stdout; a failure is one line about `about`.
  static func run(_ args: [String], about: String) throws(VMError) -> [UInt8] {
    guard let tool = KernelTool.find("qemu-img") else {
      throw VMError(.unsupported, "\(about): qemu-img is not installed (apt-get install qemu-utils)")
    }
    // stdout goes to an unlinked scratch file: KernelTool reads stderr itself, and an image's JSON is small.
    var template = Array("/tmp/cella-qemu-img-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw VMError("\(about): mkstemp", errno: errno) }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    defer { close(fd) }
    let outcome = try KernelTool.run(tool, args, stdout: fd, timeout: timeout)
    if outcome.timedOut {
      throw VMError(.system, "\(about): qemu-img \(args[0]) did not finish within \(Int(timeout)) s")
    }
    if outcome.exitCode != 0 {
      var why = KernelTool.lastLine(outcome.stderr)
      if why.hasPrefix("qemu-img: ") { why.removeFirst("qemu-img: ".count) }
      throw VMError(
        .invalidArgument,
        "\(about): qemu-img \(args[0]) failed" + (why.isEmpty ? " (exit \(outcome.exitCode))" : ": \(why)"))
    }
    lseek(fd, 0, SEEK_SET)
    do { return try FileIO.readAll(fd: fd, limit: 1 << 20) } catch {
      throw VMError(ErrorKind.from(errno: error.errno), "\(about): read qemu-img output: \(error)")
    }
  }
}
