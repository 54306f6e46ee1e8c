import CShims
import CellaSys
import Glibc

/// A user namespace that exists only to carry a guest's mapping (ids 0… onto its host range), opened
/// as the fd mount_setattr(MOUNT_ATTR_IDMAP) takes.
///
/// The daemon is threaded and never forks in Swift, so it cannot unshare a child of its own as the
/// runtime's engine does. It spawns util-linux `unshare --user cat` (util-linux is essential on Debian)
/// instead and writes that process's maps itself: as root in the parent namespace it may map any ids,
/// whereas `unshare --map-users` of util-linux 2.38 goes through newuidmap, which refuses ranges
/// /etc/subuid does not grant. `cat` reads a pipe only the daemon holds, so it ends with the daemon
/// too; normally it is killed and reaped as soon as the namespace is open.
enum MappedUserNamespace {
  static let unshare = "/usr/bin/unshare"

  /// An fd (close-on-exec) of a fresh user namespace mapping uid and gid 0… onto `range`.
  static func open(_ range: IDRange) throws(HostError) -> Int32 {
    let what = "idmap host ids \(range.first)…\(range.end - 1)"
    var pipe: [Int32] = [-1, -1]
    if cella_pipe2(&pipe, O_CLOEXEC) != 0 { throw HostError("\(what):", path: "pipe", errno: errno) }
    let devNull = Glibc.open("/dev/null", O_RDWR | O_CLOEXEC)
    defer {
      close(pipe[1])
      if devNull >= 0 { close(devNull) }
    }
    let pid: pid_t
    do {
      defer { close(pipe[0]) }
      pid = try Spawn.start(
        path: unshare, argv: ["unshare", "--user", "--", "cat"], env: ["PATH=/usr/bin:/bin"], stdin: pipe[0],
        stdout: devNull, stderr: devNull, closeOthers: true)
    } catch {
      throw HostError("\(what): run", path: unshare, errno: error.errno)
    }
    var reaped = false
    defer {
      if !reaped {
        kill(pid, SIGKILL)
        _ = try? Processes.wait(pid)
      }
    }
    let ours = Processes.namespaceLink(pid: getpid(), kind: "user")
    var waited = 0
    while Processes.namespaceLink(pid: pid, kind: "user") == ours {
      var status: Int32 = 0
      if waitpid(pid, &status, WNOHANG) == pid {
        reaped = true
        throw HostError(.system, "\(what): \(unshare) --user failed (are user namespaces disabled?)")
      }
      // unshare(2) is its first real step: this takes a millisecond or two.
      guard waited < 5000 else { throw HostError(.system, "\(what): \(unshare) made no user namespace within 5 s") }
      usleep(1000)
      waited += 1
    }
    let line = "0 \(range.first) \(range.count)\n"
    for map in ["uid_map", "gid_map"] {
      do { try FileIO.write("/proc/\(pid)/\(map)", line) } catch {
        throw HostError("\(what): write", path: "/proc/\(pid)/\(map)", errno: error.errno)
      }
    }
    let fd = Glibc.open("/proc/\(pid)/ns/user", O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw HostError("\(what): open", path: "/proc/\(pid)/ns/user", errno: errno) }
    return fd
  }
}
