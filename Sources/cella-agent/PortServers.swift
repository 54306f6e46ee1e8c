import CellaSys
import CellaVM
import Glibc

/// PID 1's view of the exec ports: one server process per port, restarted when it dies.
final class PortServers {
  let config: GuestBootConfig
  private var servers: [pid_t: Int] = [:]

  init(config: GuestBootConfig) { self.config = config }

  func startAll() {
    guard config.agentPorts > 0 else { return }
    for k in 1...config.agentPorts { start(k) }
  }

  /// Called by PID 1 for every reaped child: restarts the port server if it was one.
  func exited(_ pid: pid_t) {
    guard let k = servers.removeValue(forKey: pid) else { return }
    // A server only exits on a broken port; do not spin if it keeps doing so.
    usleep(200_000)
    start(k)
  }

  private func start(_ k: Int) {
    let pid = fork()
    if pid == 0 { PortServer(port: k, config: config).run() }
    if pid > 0 { servers[pid] = k }
  }
}

/// Finds the guest's character device for a named virtio-serial port (no udev: the names are in sysfs).
enum PortDevice {
  static let sysfs = "/sys/class/virtio-ports"

  static func path(named name: String) -> String? {
    for entry in (try? FileIO.listDirectory(sysfs)) ?? [] {
      let text = (try? FileIO.readString("\(sysfs)/\(entry)/name")) ?? ""
      if text.trimmingCharacters(in: "\n ") == name { return "/dev/" + entry }
    }
    return nil
  }
}
