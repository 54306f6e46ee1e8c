import CellaEngine
import CellaOCI
import CellaRuntimeCore

/// `events --interval`, in milliseconds: at least one, and short enough that a deadline stays far from overflow.
let eventIntervals: ClosedRange<Int64> = 1...Int64(Int32.max)

enum ExecCommand: Verb {
  static let name = "exec"
  static let abstract = "run a new process inside a running container"
  static let arguments = "ID [COMMAND [ARG...]]"
  static let passthroughAfter: Int? = 1
  static let flags: [FlagSpec] = [
    FlagSpec("process", short: "p", value: true, "path to a process.json (OCI process object)"),
    FlagSpec("tty", short: "t", "allocate a pseudo-terminal"),
    FlagSpec("console-socket", value: true, "unix socket that receives the pty master"),
    FlagSpec("detach", short: "d", "do not wait for the process"),
    FlagSpec("pid-file", value: true, "file to write the process pid to"),
    FlagSpec("cwd", value: true, "working directory in the container"),
    FlagSpec("env", short: "e", value: true, "set an environment variable (KEY=VALUE), repeatable"),
    FlagSpec("user", short: "u", value: true, "UID[:GID] to run as"),
    FlagSpec("additional-gids", short: "g", value: true, "additional group id, repeatable"),
    FlagSpec("cap", short: "c", value: true, "add a capability, repeatable"),
    FlagSpec("no-new-privs", "set no_new_privs"),
    FlagSpec("preserve-fds", value: true, "pass this many extra fds to the process"),
    FlagSpec("ignore-paused", "allow exec in a paused container"),
    FlagSpec("apparmor", value: true, "AppArmor profile (accepted; this host has no AppArmor)"),
    FlagSpec("process-label", value: true, "SELinux label (accepted; this host has no SELinux)"),
  ]

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    let log = global.logger
    guard let id = args.positionals.first else { throw RuntimeError("exec: missing container id") }
    if args.has("apparmor") { log.warning("--apparmor: this host has no AppArmor; ignored") }
    if args.has("process-label") { log.warning("--process-label: this host has no SELinux; ignored") }
    var o = ExecOptions(id: id)
    o.processFile = args.string("process")
    o.args = args.rest
    o.tty = args.has("tty")
    o.consoleSocket = args.string("console-socket")
    o.detach = args.has("detach")
    o.pidFile = args.string("pid-file")
    o.cwd = args.string("cwd")
    o.env = args.strings("env")
    o.user = args.string("user")
    for g in args.strings("additional-gids") {
      guard let gid = UInt32(g) else { throw RuntimeError("--additional-gids: \"\(g)\" is not a group id") }
      do { o.additionalGids.append(try IntegerRange.check(gid, in: SpecValidator.ids, "--additional-gids")) } catch {
        throw RuntimeError(error.message)
      }
    }
    o.caps = args.strings("cap")
    o.noNewPrivs = args.has("no-new-privs")
    o.preserveFDs = try parsing { () throws(UsageError) in try args.int("preserve-fds", in: preservedFDCounts) } ?? 0
    o.ignorePaused = args.has("ignore-paused")
    return try Lifecycle(store: global.store, log: log).exec(o)
  }
}

enum PsCommand: Verb {
  static let name = "ps"
  static let abstract = "list the processes running inside a container"
  static let arguments = "ID [PS ARGS...]"
  static let passthroughAfter: Int? = 1
  static let flags: [FlagSpec] = [FlagSpec("format", short: "f", value: true, "table or json")]

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    guard let id = args.positionals.first else { throw RuntimeError("ps: missing container id") }
    let lifecycle = Lifecycle(store: global.store, log: global.logger)
    switch args.string("format") ?? "table" {
    case "json": writeOut("[" + (try lifecycle.processes(id: id)).map(String.init).joined(separator: ",") + "]\n")
    case "table": writeOut(try lifecycle.psTable(id: id, psArgs: args.rest))
    case let other: throw RuntimeError("--format: unknown format \"\(other)\" (use table or json)")
    }
    return 0
  }
}

enum EventsCommand: Verb {
  static let name = "events"
  static let abstract = "print container stats and OOM events as JSON lines"
  static let arguments = "ID"
  static let flags: [FlagSpec] = [
    FlagSpec("stats", "print stats once and exit"),
    FlagSpec("interval", value: true, "stats interval (5s, 500ms; default 5s)"),
  ]

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    let id = try id(args)
    let lifecycle = Lifecycle(store: global.store, log: global.logger)
    if args.has("stats") {
      writeOut(try lifecycle.statsEvent(id: id) + "\n")
      return 0
    }
    let text = args.string("interval") ?? "5s"
    let seconds: Double
    if text.hasSuffix("ms"), let v = Double(text.dropLast(2)) {
      seconds = v / 1000
    } else if text.hasSuffix("s"), let v = Double(text.dropLast()) {
      seconds = v
    } else if let v = Double(text) {
      seconds = v
    } else {
      throw RuntimeError("--interval: \"\(text)\" is not a duration (use 5s or 500ms)")
    }
    // Whole milliseconds; NaN, infinities and values past Int64 are refused like any out-of-range number.
    let rounded = (seconds * 1000).rounded()
    guard let millis = Int64(exactly: rounded), eventIntervals.contains(millis) else {
      let bounds = (lower: "\(eventIntervals.lowerBound)ms", upper: "\(eventIntervals.upperBound)ms")
      throw RuntimeError("--interval: " + IntegerRange.problem(value: text, lower: bounds.lower, upper: bounds.upper))
    }
    // Unbuffered writes: a reader (containerd) must see each event as it happens.
    try lifecycle.events(id: id, intervalMillis: millis) { writeOut($0 + "\n") }
    return 0
  }
}
