import CShims
import CellaOCI
import CellaSys
import Glibc

/// The points of the lifecycle where hooks run.
package enum HookPoint: String {
  case prestart, createRuntime, createContainer, startContainer, poststart, poststop
}

/// Runs OCI hooks: the state on stdin, output captured for the error message, `timeout` enforced.
package enum HookRunner {
  /// Runs hooks in order and stops at the first failure.
  package static func run(_ hooks: [Hook], point: HookPoint, state: String) throws(RuntimeError) {
    for (i, hook) in hooks.enumerated() {
      try runOne(hook, label: "\(point.rawValue) hook #\(i) (\(hook.path))", state: state)
    }
  }

  /// Runs every hook even when some fail; returns the failures (poststart and poststop semantics).
  package static func runAll(_ hooks: [Hook], point: HookPoint, state: String) -> [RuntimeError] {
    var failures: [RuntimeError] = []
    for (i, hook) in hooks.enumerated() {
      do { try runOne(hook, label: "\(point.rawValue) hook #\(i) (\(hook.path))", state: state) } catch {
        failures.append(error)
      }
    }
    return failures
  }

  static func runOne(_ hook: Hook, label: String, state: String) throws(RuntimeError) {
    var input: [Int32] = [0, 0]
    var output: [Int32] = [0, 0]
    guard cella_pipe2(&input, O_CLOEXEC) == 0 else { throw RuntimeError("\(label): pipe: \(SysError.describe(errno))") }
    guard cella_pipe2(&output, O_CLOEXEC) == 0 else {
      close(input[0])
      close(input[1])
      throw RuntimeError("\(label): pipe: \(SysError.describe(errno))")
    }
    let argv = (hook.args?.isEmpty ?? true) ? [hook.path] : hook.args!
    let pid: pid_t
    do {
      pid = try Spawn.start(
        path: hook.path, argv: argv, env: hook.env ?? [], stdin: input[0], stdout: output[1], stderr: output[1])
    } catch {
      [input[0], input[1], output[0], output[1]].forEach { close($0) }
      throw RuntimeError("\(label): \(error.description)")
    }
    close(input[0])
    close(output[1])
    // The state is small; a hook that does not read stdin must not block us.
    _ = cella_fcntl(input[1], F_SETFL, O_NONBLOCK)
    _ = Array(state.utf8).withUnsafeBytes { write(input[1], $0.baseAddress, $0.count) }
    close(input[1])

    let pidfd = cella_pidfd_open(pid, 0)
    defer { if pidfd >= 0 { close(pidfd) } }
    var captured: [UInt8] = []
    // create validated the timeout; a config copy edited in the state directory since is clamped
    // rather than trusted with the arithmetic.
    let deadline = hook.timeout.map { monotonicMillis() + Int64(min(max($0, 1), Int(Int32.max))) * 1000 }
    var outOpen = true
    var timedOut = false
    while true {
      var fds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
      if outOpen { fds.append(pollfd(fd: output[0], events: Int16(POLLIN), revents: 0)) }
      var wait: Int32 = -1
      if let deadline {
        let left = deadline - monotonicMillis()
        if left <= 0 {
          timedOut = true
          break
        }
        wait = Int32(min(left, 60_000))
      }
      let n = poll(&fds, nfds_t(fds.count), wait)
      if n < 0 && errno == EINTR { continue }
      if outOpen && fds.count > 1 && fds[1].revents != 0 {
        var buf = [UInt8](repeating: 0, count: 4096)
        let r = buf.withUnsafeMutableBytes { read(output[0], $0.baseAddress, $0.count) }
        if r > 0 {
          if captured.count < 65536 { captured += buf[0..<r] }
        } else {
          outOpen = false
        }
      }
      if fds[0].revents != 0 && !outOpen { break }
      if fds[0].revents != 0 {
        // Exited; drain what is left without blocking.
        _ = cella_fcntl(output[0], F_SETFL, O_NONBLOCK)
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
          let r = buf.withUnsafeMutableBytes { read(output[0], $0.baseAddress, $0.count) }
          if r <= 0 { break }
          if captured.count < 65536 { captured += buf[0..<r] }
        }
        break
      }
    }
    close(output[0])
    if timedOut {
      kill(pid, SIGKILL)
      _ = try? Processes.wait(pid)
      throw RuntimeError("\(label): timed out after \(hook.timeout ?? 0)s and was killed")
    }
    let status: Int32
    do { status = try Processes.wait(pid) } catch { throw RuntimeError("\(label): wait: \(error.reason)") }
    let code = Processes.exitCode(status: status)
    if code != 0 {
      let text = String(decoding: captured, as: UTF8.self).trimmingCharacters(in: " \n\t")
      let tail = text.isEmpty ? "" : ": " + String(text.suffix(400)).replacingNewlines()
      throw RuntimeError("\(label) failed with exit status \(code)\(tail)")
    }
  }
}

/// Milliseconds on the monotonic clock.
package func monotonicMillis() -> Int64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

extension String {
  /// Folds line breaks so an error stays one line.
  func replacingNewlines() -> String {
    String(self.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
  }
}
