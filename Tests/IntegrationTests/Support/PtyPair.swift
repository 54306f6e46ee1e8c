import CShims
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A pseudo-terminal pair standing in for a host serial port: the VM is given `slavePath` (QEMU's
/// `-serial /dev/pts/N`, cella's `serial.N=host:/dev/pts/N`), the test writes and reads the master.
/// The slave stays open here too, in raw mode, so the master never reads EIO while QEMU has it closed.
final class PtyPair {
  let master: Int32
  private var slave: Int32
  /// `/dev/pts/N`.
  let slavePath: String
  private var received: [UInt8] = []

  init() throws {
    master = cella_pty_open("/dev/ptmx")
    guard master >= 0 else { throw HarnessError("open /dev/ptmx: \(String(cString: strerror(errno)))") }
    slave = cella_pty_peer(master)
    guard slave >= 0, let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(slave)")
    else {
      let e = errno
      Glibc.close(master)
      throw HarnessError("pty slave: \(String(cString: strerror(e)))")
    }
    slavePath = path
    var mode = termios()
    tcgetattr(slave, &mode)
    cfmakeraw(&mode)
    tcsetattr(slave, TCSANOW, &mode)
  }

  deinit {
    Glibc.close(master)
    closeSlave()
  }

  /// Lets go of the slave (for a test that needs the device unused by anyone but the VM).
  func closeSlave() {
    if slave >= 0 { Glibc.close(slave) }
    slave = -1
  }

  /// Writes all of `text` to the master: what the VM reads from its serial port.
  func write(_ text: String) throws {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
      let n = bytes.withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw HarnessError("write to the pty master: \(String(cString: strerror(errno)))") }
      bytes = bytes.dropFirst(n)
    }
  }

  /// Everything the VM wrote so far, waiting up to `timeout` seconds for `needle` to appear in it.
  @discardableResult
  func read(until needle: String, timeout: TimeInterval) -> String {
    let deadline = Date().addingTimeInterval(timeout)
    while !text.contains(needle) {
      let left = deadline.timeIntervalSinceNow
      guard left > 0 else { break }
      var p = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
      guard poll(&p, 1, Int32(min(left, 1) * 1000) + 1) > 0 else { continue }
      var buffer = [UInt8](repeating: 0, count: 4096)
      let n = Glibc.read(master, &buffer, buffer.count)
      if n > 0 { received += buffer.prefix(n) } else if n < 0 && errno != EINTR && errno != EAGAIN { break }
    }
    return text
  }

  /// What was read so far.
  var text: String { String(decoding: received, as: UTF8.self) }
}
