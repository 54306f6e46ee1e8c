import CellaAPI
import CellaSys
import Glibc

/// `cella image build busybox`: Debian's busybox-static and its applet links, a few files of /etc, and
/// busybox init running a shell on the console. The same tree as RootFS/busybox.sh (the runtime's test
/// rootfs) plus the inittab.
enum BusyboxImage {
  static let busybox = "/bin/busybox"
  static let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

  static let directories: [(String, mode_t)] = [
    ("bin", 0o755), ("sbin", 0o755), ("usr", 0o755), ("usr/bin", 0o755), ("usr/sbin", 0o755), ("etc", 0o755),
    ("dev", 0o755), ("proc", 0o555), ("sys", 0o555), ("tmp", 0o1777), ("root", 0o700), ("run", 0o755),
    ("var", 0o755), ("var/tmp", 0o1777), ("home", 0o755),
  ]

  static let files: [(String, String)] = [
    (
      "etc/passwd",
      """
      root:x:0:0:root:/root:/bin/sh
      daemon:x:1:1:daemon:/usr/sbin:/bin/false
      nobody:x:65534:65534:nobody:/nonexistent:/bin/false
      user:x:1000:1000:user:/home/user:/bin/sh

      """
    ),
    ("etc/group", "root:x:0:\ndaemon:x:1:\ntty:x:5:\nusers:x:100:\nnogroup:x:65534:\nuser:x:1000:\n"),
    ("etc/hostname", "cella\n"),
    ("etc/nsswitch.conf", "hosts: files dns\n"),
    ("etc/hosts", "127.0.0.1 localhost\n::1 localhost\n"),
    (
      "etc/inittab",
      """
      # busybox init: a login shell on the console, started again whenever it exits.
      # SIGUSR2 (the image's stop signal) makes init run the shutdown lines and power off.
      ::respawn:-/bin/sh
      ::shutdown:/bin/sync

      """
    ),
  ]

  /// The process of a busybox guest: init, stopped with SIGUSR2.
  static let process = ImageProcess(cmd: ["/sbin/init"], env: [path], workingDir: "/", stopSignal: "SIGUSR2")

  /// Lays the tree out in `rootfs` (an empty directory).
  static func build(into rootfs: String) throws(HostError) -> ImageProcess {
    try checkHost()
    for (dir, mode) in directories {
      let p = rootfs + "/" + dir
      if mkdir(p, mode) != 0 { throw HostError("mkdir", path: p, errno: errno) }
      chmod(p, mode)  // past the umask
    }
    try copy(busybox, to: rootfs + "/bin/busybox")
    let run = try HostTools.run(busybox, ["--list-full"])
    guard run.status == 0 else {
      throw HostError(.system, "\(busybox) --list-full failed (exit \(run.status)): \(HostTools.lastLine(run.stderr))")
    }
    for line in String(decoding: run.stdout, as: UTF8.self).split(separator: "\n") {
      let applet = String(line)
      let parts = applet.split(separator: "/")
      // Applets live at most two directories down (usr/sbin/x); nothing else in the list is trusted.
      guard (1...3).contains(parts.count), !parts.contains(where: { $0 == ".." || $0 == "." }),
        !applet.hasPrefix("/")
      else { continue }
      let link = rootfs + "/" + applet
      if symlink(busybox, link) != 0 && errno != EEXIST { throw HostError("symlink", path: link, errno: errno) }
    }
    for (file, text) in files {
      let dir = file.split(separator: "/").dropLast().joined(separator: "/")
      let base = String(file.split(separator: "/").last ?? "")
      do {
        try FileIO.writeAtomically(
          directory: rootfs + "/" + dir, name: base, Array(text.utf8), mode: 0o644, durable: false)
      } catch {
        throw HostError("", error)
      }
    }
    return process
  }

  /// Unsupported unless the host has a static busybox (Debian's busybox-static).
  static func checkHost() throws(HostError) {
    let install = "install busybox-static (apt-get install busybox-static)"
    guard let bytes = try? FileIO.read(busybox, limit: 1 << 16) else {
      throw HostError(.unsupported, "\(busybox) is missing: \(install)")
    }
    guard isStaticELF(bytes) else {
      throw HostError(.unsupported, "\(busybox) is not a static binary: \(install)")
    }
  }

  /// Whether an ELF file's head has program headers and none of them asks for an interpreter.
  static func isStaticELF(_ b: [UInt8]) -> Bool {
    guard b.count >= 64, b[0] == 0x7f, b[1] == 0x45, b[2] == 0x4c, b[3] == 0x46, b[4] == 2, b[5] == 1 else {
      return false
    }
    func le(_ at: Int, _ n: Int) -> Int {
      var v = 0
      for i in (0..<n).reversed() { v = v << 8 | Int(b[at + i]) }
      return v
    }
    let phoff = le(32, 8)
    let phentsize = le(54, 2)
    let phnum = le(56, 2)
    guard phentsize >= 4, phnum > 0, phoff > 0, phoff <= b.count, phnum <= (b.count - phoff) / phentsize else {
      return false
    }
    for i in 0..<phnum where le(phoff + i * phentsize, 4) == 3 { return false }  // PT_INTERP
    return true
  }

  private static func copy(_ from: String, to: String) throws(HostError) {
    let src = open(from, O_RDONLY | O_CLOEXEC)
    if src < 0 { throw HostError("open", path: from, errno: errno) }
    defer { close(src) }
    let dst = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
    if dst < 0 { throw HostError("create", path: to, errno: errno) }
    defer { close(dst) }
    fchmod(dst, 0o755)
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(src, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { throw HostError("read", path: from, errno: errno) }
      if n == 0 { return }
      do { try FileIO.writeAll(fd: dst, Array(chunk[0..<n]), path: to) } catch { throw HostError("", error) }
    }
  }
}
