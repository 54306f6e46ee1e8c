import CellaVM

/// `cella-agent exec`'s command line.
struct ExecOptions: Equatable {
  static let usage =
    "cella-agent exec --dir DIR [--name NAME] [--tty [--console-socket PATH]] [--env K=V]... [--cwd DIR]"
    + " [--user UID:GID] [--timeout SECONDS] -- CMD [ARG]..."

  /// The guest's vm directory: `agent-K.sock` (QEMU's ends of the ports) and `agent-K.lock`.
  var dir = ""
  /// The guest's name, for messages (the directory when not given).
  var name: String?
  var tty = false
  var consoleSocket: String?
  var env: [String] = []
  var cwd: String?
  var uid: UInt32?
  var gid: UInt32?
  /// How long to wait for the agent's answer (a VM that has just started may still be booting).
  var timeoutSeconds = 10
  var command: [String] = []

  struct UsageError: Error {
    let message: String
  }

  static func parse(_ arguments: ArraySlice<String>) throws(UsageError) -> ExecOptions {
    var o = ExecOptions()
    var rest = arguments
    func value(_ flag: String) throws(UsageError) -> String {
      guard let v = rest.popFirst() else { throw UsageError(message: "\(flag): needs a value") }
      return v
    }
    while let arg = rest.popFirst() {
      switch arg {
      case "--": o.command = Array(rest); rest = []
      case "--dir": o.dir = try value(arg)
      case "--name": o.name = try value(arg)
      case "--tty", "-t": o.tty = true
      case "--console-socket": o.consoleSocket = try value(arg)
      case "--env", "-e":
        let word = try value(arg)
        guard let eq = word.firstIndex(of: "="), eq != word.startIndex, !word.utf8.contains(0) else {
          throw UsageError(message: "--env: \(String(reflecting: word)) is not KEY=value")
        }
        o.env.append(word)
      case "--cwd":
        let dir = try value(arg)
        guard dir.hasPrefix("/") else { throw UsageError(message: "--cwd: \(String(reflecting: dir)) is not absolute") }
        o.cwd = dir
      case "--user", "-u":
        let text = try value(arg)
        guard let (uid, gid) = try? GuestBootConfig.parseUser(text) else {
          throw UsageError(message: "--user: \(String(reflecting: text)) is not UID:GID (numbers)")
        }
        (o.uid, o.gid) = (uid, gid)
      case "--timeout":
        let text = try value(arg)
        guard let s = Int(text), (1...3600).contains(s) else {
          throw UsageError(message: "--timeout: \(String(reflecting: text)) is not a number of seconds (1…3600)")
        }
        o.timeoutSeconds = s
      default:
        throw UsageError(message: "\(arg): unknown flag")
      }
    }
    guard !o.dir.isEmpty else { throw UsageError(message: "--dir: missing (the guest's vm directory)") }
    guard let first = o.command.first, !first.isEmpty else { throw UsageError(message: "no command after --") }
    if o.consoleSocket != nil && !o.tty { throw UsageError(message: "--console-socket: only with --tty") }
    return o
  }
}
