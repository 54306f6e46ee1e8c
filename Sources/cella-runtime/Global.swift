import CellaEngine
import CellaRuntimeCore

/// runc's global flags (accepted before the verb, and among the verb's flags).
struct Global {
  static let flags: [FlagSpec] = [
    FlagSpec("root", value: true, "root directory for container state (default /run/cella)"),
    FlagSpec("log", value: true, "log file (default: stderr)"),
    FlagSpec("log-format", value: true, "log format: text or json (default text)"),
    FlagSpec("debug", "debug logging, with the time of each create step"),
    FlagSpec("systemd-cgroup", "cgroupsPath is slice:prefix:name (mapped onto cgroupfs)"),
    FlagSpec("criu", value: true, hidden: true, "accepted for runc compatibility; checkpointing is not supported"),
    FlagSpec("rootless", value: true, hidden: true, "accepted for runc compatibility"),
    FlagSpec("help", short: "h", "show help"),
    FlagSpec("version", short: "v", "print the version"),
  ]

  var root = "/run/cella"
  var logPath: String?
  var logFormat = Logger.Format.text
  var debug = false
  var systemdCgroup = false

  init(_ args: ParsedArguments) throws(RuntimeError) {
    if let root = args.string("root") { self.root = root }
    logPath = args.string("log")
    if let format = args.string("log-format") {
      guard let f = Logger.Format(rawValue: format) else {
        throw RuntimeError("--log-format: unknown format \"\(format)\" (use text or json)")
      }
      logFormat = f
    }
    debug = args.has("debug")
    systemdCgroup = args.has("systemd-cgroup")
  }

  var logger: Logger { Logger(path: logPath, format: logFormat, debug: debug) }
  var store: StateStore { StateStore(root: root) }
}
