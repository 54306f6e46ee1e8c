import CShims
import CellaCgroups
import CellaOCI
import CellaSys
import Glibc

extension Lifecycle {
  /// Host pids of every process of the container.
  public func processes(id: String) throws(RuntimeError) -> [Int32] {
    let record = try store.load(id)
    guard record.initIsAlive else { return [] }
    return containerPIDs(record)
  }

  /// The container's processes: those in its cgroup, or in its pid namespace (init included).
  func containerPIDs(_ record: ContainerRecord) -> [Int32] {
    if let path = record.cgroupPath {
      let pids = hostCgroups.processes(path)
      if !pids.isEmpty { return pids.sorted() }
    }
    guard record.ownPIDNamespace, let ns = Processes.namespaceLink(pid: record.pid, kind: "pid") else {
      return record.initIsAlive ? [record.pid] : []
    }
    return Processes.allPIDs().filter { Processes.namespaceLink(pid: $0, kind: "pid") == ns }.sorted()
  }

  /// `ps`: the host's `ps` output (default `-ef`) limited to the container's processes.
  public func psTable(id: String, psArgs: [String]) throws(RuntimeError) -> String {
    let pids = Set(try processes(id: id))
    let args = psArgs.isEmpty ? ["-ef"] : psArgs
    let output = try runCapturing("/bin/ps", ["ps"] + args)
    var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard !lines.isEmpty else { return "" }
    let header = lines.removeFirst()
    let columns = header.split(separator: " ")
    guard let pidColumn = columns.firstIndex(of: "PID") else {
      throw RuntimeError("ps: the output of `ps \(args.joined(separator: " "))` has no PID column")
    }
    let rows = lines.filter { line in
      let fields = line.split(separator: " ")
      return fields.count > pidColumn && Int32(fields[pidColumn]).map { pids.contains($0) } == true
    }
    return ([header] + rows).joined(separator: "\n") + "\n"
  }

  private func runCapturing(_ path: String, _ argv: [String]) throws(RuntimeError) -> String {
    var fds: [Int32] = [0, 0]
    guard cella_pipe2(&fds, O_CLOEXEC) == 0 else { throw RuntimeError("ps: pipe: \(SysError.describe(errno))") }
    let devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer { close(devnull) }
    let pid: pid_t
    do {
      pid = try Spawn.start(
        path: path, argv: argv, env: ["PATH=/usr/bin:/bin"], stdin: devnull, stdout: fds[1], stderr: 2)
    } catch {
      close(fds[0])
      close(fds[1])
      throw RuntimeError("ps: \(error.description)")
    }
    close(fds[1])
    let bytes = (try? FileIO.readAll(fd: fds[0])) ?? []
    close(fds[0])
    let status = (try? Processes.wait(pid)) ?? 0
    if Processes.exitCode(status: status) != 0 {
      throw RuntimeError(
        "ps \(argv.dropFirst().joined(separator: " ")) failed with status \(Processes.exitCode(status: status))")
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
