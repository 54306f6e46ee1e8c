import Glibc

/// The last line of a log that may be long (console.log, keeper.log): only its tail is read.
enum ConsoleTail {
  /// The last non-empty line of the file's last `window` bytes, without carriage returns (a console's
  /// lines end in CR LF); nil when there is none.
  static func lastLine(_ path: String, window: Int = 4096) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    let size = lseek(fd, 0, SEEK_END)
    guard size > 0 else { return nil }
    let start = max(0, Int(size) - window)
    var buffer = [UInt8](repeating: 0, count: Int(size) - start)
    let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
    guard n > 0 else { return nil }
    let text = String(decoding: buffer[0..<n], as: UTF8.self)
    let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
    return lines.last { !$0.allSatisfy { $0 == " " } }.map(String.init)
  }
}
