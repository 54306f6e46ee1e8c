import Glibc

/// The ACPI power button (`cella stop` presses it over QMP): a watcher process reads the input devices and,
/// on a press, sends the guest's command SIGTERM, as `cella stop` signals a container's init. When the
/// command ends, PID 1 powers the VM off; a command that ignores it is ended by the host after
/// `boot.stop.timeout`.
enum PowerButton {
  static let inputDirectory = "/dev/input"
  /// linux/input-event-codes.h
  static let evKey: UInt16 = 1
  static let keyPower: UInt16 = 116
  /// struct input_event on x86_64: a timeval (16 bytes), type, code (u16 each), value (s32).
  static let eventSize = 24

  /// Forks the watcher; returns its pid (PID 1 reaps it like any child), or -1 without input devices.
  static func watch(command: pid_t) -> pid_t {
    let names = ((try? listEvents()) ?? []).sorted()
    guard !names.isEmpty else { return -1 }
    let pid = fork()
    guard pid == 0 else { return pid }
    var fds: [pollfd] = []
    for name in names {
      let fd = open(inputDirectory + "/" + name, O_RDONLY | O_CLOEXEC)
      if fd >= 0 { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
    }
    var event = [UInt8](repeating: 0, count: eventSize)
    while !fds.isEmpty {
      if poll(&fds, nfds_t(fds.count), -1) < 0 {
        if errno == EINTR { continue }
        exit(1)
      }
      for i in fds.indices where fds[i].revents != 0 {
        let n = event.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, eventSize) }
        guard n == eventSize else { continue }
        let type = UInt16(event[16]) | UInt16(event[17]) << 8
        let code = UInt16(event[18]) | UInt16(event[19]) << 8
        if type == evKey && code == keyPower && event[20] == 1 { kill(command, SIGTERM) }
      }
    }
    exit(0)
  }

  private static func listEvents() throws -> [String] {
    guard let dir = opendir(inputDirectory) else { return [] }
    defer { closedir(dir) }
    var out: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) {
        String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      if name.hasPrefix("event") { out.append(name) }
    }
    return out
  }
}
