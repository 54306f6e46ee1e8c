import CAgentEarly
import CShims
import CellaErrors
import CellaNet
import CellaSys
import CellaVM
import Glibc

/// The VM's PID 1: brings the guest up from the initramfs, runs its command, serves the exec ports, and powers
/// the VM off when the command exits. Any failure before the command starts is one `cella-agent:` line on the
/// console and a power-off, never a kernel panic.
enum GuestInit {
  /// Where part of the initramfs puts what the agent reads.
  static let modulesList = "/cella/modules"
  static let configPath = "/cella/guest.json"
  static let newRoot = "/newroot"
  /// A tmpfs outside the guest's root holding the files bind-mounted over its /etc entries.
  static let etcDir = "/cella/etc"

  static func run() -> Never {
    var config: GuestBootConfig
    do {
      try mountEarly()
      try ModuleLoader.loadListed(modulesList)
      config = try GuestBootConfig.parse(try FileIO.read(configPath, limit: 4 << 20), source: configPath)
      try mountRoot(config)
      try writeEtc(config)
      try switchRoot()
      try setHostname(config.hostname)
      try GuestNetwork.configure(config.nics)
    } catch let error as KindedError {
      fail(error.message)
    } catch {
      fail("\(error)")
    }
    let ports = PortServers(config: config)
    ports.startAll()
    let command: pid_t
    do {
      command = try GuestProcess.spawn(
        argv: config.command, env: config.env, cwd: config.cwd, uid: config.uid, gid: config.gid,
        stdio: (0, 1, 2), terminal: true)
    } catch {
      fail(error.message)
    }
    _ = PowerButton.watch(command: command)
    reap(command: command, ports: ports)
  }

  /// Waits for every child; restarts port servers; powers off once the guest's command is gone.
  private static func reap(command: pid_t, ports: PortServers) -> Never {
    while true {
      var status: Int32 = 0
      let pid = waitpid(-1, &status, 0)
      if pid < 0 {
        if errno == EINTR { continue }
        powerOff()
      }
      if pid == command { powerOff() }
      ports.exited(pid)
    }
  }

  /// /proc (unless the early constructor did), /sys, /dev (devtmpfs), /dev/pts, and the console on 0/1/2.
  static func mountEarly() throws(SysError) {
    if cella_agent_mounted_proc() == 0 && !FileIO.exists("/proc/self") {
      try mountFS("proc", "/proc", "proc", MS.noSuid | MS.noDev | MS.noExec)
    }
    try mountFS("sysfs", "/sys", "sysfs", MS.noSuid | MS.noDev | MS.noExec)
    try mountFS("devtmpfs", "/dev", "devtmpfs", MS.noSuid, data: "mode=0755")
    mkdir("/dev/pts", 0o755)
    try mountFS("devpts", "/dev/pts", "devpts", MS.noSuid | MS.noExec, data: "gid=5,mode=0620,ptmxmode=0666")
    mkdir("/dev/shm", 0o1777)
    try mountFS("tmpfs", "/dev/shm", "tmpfs", MS.noSuid | MS.noDev, data: "mode=1777")
    // The kernel opened /dev/console for init only if the initramfs had the node; devtmpfs has it now.
    if fcntl(0, F_GETFD) < 0 || fcntl(1, F_GETFD) < 0 || fcntl(2, F_GETFD) < 0 {
      let console = open("/dev/console", O_RDWR | O_NOCTTY)
      if console >= 0 {
        for fd: Int32 in 0...2 where fd != console { dup2(console, fd) }
        if console > 2 { close(console) }
      }
    }
  }

  static func mountFS(_ source: String, _ target: String, _ type: String, _ flags: UInt, data: String? = nil)
    throws(SysError)
  {
    mkdir(target, 0o755)
    let r: Int32
    if let data { r = mount(source, target, type, flags, data) } else { r = mount(source, target, type, flags, nil) }
    if r != 0 && errno != EBUSY { throw SysError("mount \(type) on", path: target) }
  }

  /// Mounts the root device read-write on /newroot, waiting a little for its driver to create it.
  private static func mountRoot(_ config: GuestBootConfig) throws {
    var waited = 0
    while !FileIO.exists(config.rootDevice) && waited < 5000 {
      usleep(20_000)
      waited += 20
    }
    guard FileIO.exists(config.rootDevice) else {
      throw VMError(.notFound, "root device \(config.rootDevice): missing after 5 s (is its driver in \(modulesList)?)")
    }
    mkdir(newRoot, 0o755)
    guard mount(config.rootDevice, newRoot, config.rootFSType, 0, nil) == 0 else {
      throw SysError("mount the \(config.rootFSType) root", path: config.rootDevice)
    }
  }

  /// /etc/hosts and /etc/resolv.conf of the config, bind-mounted over the root's (created when missing).
  private static func writeEtc(_ config: GuestBootConfig) throws(SysError) {
    var files: [(String, String)] = [("hostname", config.hostname + "\n")]
    if let hosts = config.hosts { files.append(("hosts", hosts)) }
    if !config.dns.isEmpty {
      files.append(("resolv.conf", config.dns.map { "nameserver \($0)\n" }.joined()))
    }
    try mountFS("tmpfs", etcDir, "tmpfs", MS.noSuid | MS.noDev | MS.noExec, data: "mode=0755,size=1m")
    mkdir(newRoot + "/etc", 0o755)
    for (name, text) in files {
      let source = etcDir + "/" + name
      try FileIO.writeAtomically(path: source, Array(text.utf8), mode: 0o644, durable: false)
      let target = newRoot + "/etc/" + name
      // A dangling symlink (resolv.conf -> ../run/…) is replaced by a file: the bind needs a target.
      var st = stat()
      if lstat(target, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK && stat(target, &st) != 0 { unlink(target) }
      let fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
      if fd >= 0 { close(fd) }
      guard mount(source, target, nil, MS.bind, nil) == 0 else { throw SysError("bind mount over", path: target) }
    }
  }

  /// Empties the initramfs (its RAM is the guest's), moves /dev /proc /sys into the root and makes it /.
  private static func switchRoot() throws(SysError) {
    var rootStat = stat()
    guard stat("/", &rootStat) == 0 else { throw SysError("stat", path: "/") }
    removeInitramfs("/", device: rootStat.st_dev)
    for dir in ["/dev", "/proc", "/sys"] {
      mkdir(newRoot + dir, 0o755)
      guard mount(dir, newRoot + dir, nil, MS.move, nil) == 0 else { throw SysError("move mount", path: dir) }
    }
    guard chdir(newRoot) == 0 else { throw SysError("chdir", path: newRoot) }
    guard mount(".", "/", nil, MS.move, nil) == 0 else { throw SysError("move mount", path: newRoot) }
    guard chroot(".") == 0, chdir("/") == 0 else { throw SysError("chroot", path: newRoot) }
  }

  /// Removes what is on the initramfs under `path`, leaving mount points (and what is under them) alone.
  private static func removeInitramfs(_ path: String, device: dev_t) {
    guard let names = try? FileIO.listDirectory(path) else { return }
    for name in names {
      let child = (path == "/" ? "" : path) + "/" + name
      if child == newRoot || child == etcDir { continue }
      var st = stat()
      guard lstat(child, &st) == 0, st.st_dev == device else { continue }
      if st.st_mode & S_IFMT == S_IFDIR {
        removeInitramfs(child, device: device)
        rmdir(child)
      } else {
        unlink(child)
      }
    }
  }

  private static func setHostname(_ name: String) throws(SysError) {
    guard sethostname(name, name.utf8.count) == 0 else { throw SysError("sethostname \(name)") }
  }

  /// One line on the console, then power off.
  static func fail(_ message: String) -> Never {
    try? FileIO.writeAll(fd: 2, Array("cella-agent: \(message)\n".utf8))
    powerOff()
  }

  /// Ends every process, syncs the disks and powers the VM off (QEMU then reports a guest shutdown).
  static func powerOff() -> Never {
    if kill(-1, SIGTERM) == 0 {
      usleep(100_000)
      kill(-1, SIGKILL)
    }
    sync()
    // Read-only before power-off: the root's journal is clean for the next boot.
    _ = mount("/", "/", nil, MS.remount | MS.readOnly, nil)
    sync()
    _ = cella_power_off()
    // reboot(2) only returns on failure; PID 1 must not exit (the kernel would panic).
    while true { pause() }
  }
}
