import ArgumentParser
import CellaRuntime

struct ExecCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exec", abstract: "Run a new process inside a running container.")

  @OptionGroup var global: GlobalOptions
  @Option(name: [.customShort("p"), .long], help: "Path to a process.json (OCI process object).")
  var process: String?
  @Flag(name: [.customShort("t"), .long], help: "Allocate a pseudo-terminal.") var tty = false
  @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master.")
  var consoleSocket: String?
  @Flag(name: [.customShort("d"), .long], help: "Do not wait for the process.") var detach = false
  @Option(name: .customLong("pid-file"), help: "File to write the process pid to.") var pidFile: String?
  @Option(help: "Current working directory in the container.") var cwd: String?
  @Option(name: [.customShort("e"), .long], help: "Set an environment variable (KEY=VALUE).") var env: [String] = []
  @Option(name: [.customShort("u"), .long], help: "UID[:GID] to run as.") var user: String?
  @Option(name: [.customShort("g"), .customLong("additional-gids")], help: "Additional group id.")
  var additionalGids: [UInt32] = []
  @Option(name: [.customShort("c"), .long], help: "Add a capability.") var cap: [String] = []
  @Flag(name: .customLong("no-new-privs"), help: "Set no_new_privs.") var noNewPrivs = false
  @Option(name: .customLong("preserve-fds"), help: "Pass this many extra fds to the process.")
  var preserveFDs: Int32 = 0
  @Flag(name: .customLong("ignore-paused"), help: "Allow exec in a paused container.") var ignorePaused = false
  @Option(help: "AppArmor profile (accepted; this host has no AppArmor).") var apparmor: String?
  @Option(name: .customLong("process-label"), help: "SELinux label (accepted; this host has no SELinux).")
  var processLabel: String?
  @Argument(help: "Container id.") var id: String
  @Argument(parsing: .captureForPassthrough, help: "Command and arguments.") var command: [String] = []

  func run() throws {
    var code: Int32 = 0
    try global.perform { () throws(RuntimeError) in
      let log = global.logger
      if apparmor != nil { log.warning("--apparmor: this host has no AppArmor; ignored") }
      if processLabel != nil { log.warning("--process-label: this host has no SELinux; ignored") }
      if preserveFDs < 0 { throw RuntimeError("--preserve-fds: must not be negative") }
      var o = ExecOptions(id: id)
      o.processFile = process
      o.args = command.first == "--" ? Array(command.dropFirst()) : command
      o.tty = tty
      o.consoleSocket = consoleSocket
      o.detach = detach
      o.pidFile = pidFile
      o.cwd = cwd
      o.env = env
      o.user = user
      o.additionalGids = additionalGids
      o.caps = cap
      o.noNewPrivs = noNewPrivs
      o.preserveFDs = preserveFDs
      o.ignorePaused = ignorePaused
      code = try Lifecycle(store: global.store, log: log).exec(o)
    }
    if code != 0 { throw ExitCode(code) }
  }
}
