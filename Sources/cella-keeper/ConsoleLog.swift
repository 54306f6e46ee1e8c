import Glibc

/// console.log: everything the guest's terminal printed, kept to `max` bytes by moving a full log to
/// console.log.1 (replacing the previous one) and starting again, so at most twice `max` is kept.
struct ConsoleLog {
  private var fd: Int32
  private var size: Int
  let max: Int

  init(max: Int) throws(KeeperError) {
    self.max = max
    fd = open(Files.consoleLog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    if fd < 0 { throw KeeperError("open \(Files.consoleLog): \(describe(errno))") }
    var st = stat()
    size = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
  }

  /// Appends output, filling the log up to `max` and moving on to a fresh one; a write error (a full disk)
  /// loses that output but never stops the keeper.
  mutating func append(_ bytes: UnsafeRawBufferPointer) {
    var rest = bytes[...]
    while !rest.isEmpty {
      if size >= max && !rotate() {
        write(UnsafeRawBufferPointer(rebasing: rest))
        return
      }
      let part = rest.prefix(max - size)
      guard write(UnsafeRawBufferPointer(rebasing: part)) else { return }
      rest = rest.dropFirst(part.count)
    }
  }

  @discardableResult
  private mutating func write(_ chunk: UnsafeRawBufferPointer) -> Bool {
    var off = 0
    while off < chunk.count {
      let n = Glibc.write(fd, chunk.baseAddress! + off, chunk.count - off)
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return false }
      off += n
      size += n
    }
    return true
  }

  /// Moves the full log to console.log.1 and opens a new one; false when either step failed.
  private mutating func rotate() -> Bool {
    if rename(Files.consoleLog, Files.consoleLogOld) != 0 { return false }
    let fresh = open(Files.consoleLog, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fresh >= 0 else { return false }
    close(fd)
    fd = fresh
    size = 0
    return true
  }
}
