import ArgumentParser
import CellaRuntime

/// Options shared by `create` and `run`.
struct ContainerOptions: ParsableArguments {
  @Option(name: [.customShort("b"), .long], help: "Path to the bundle (default: current directory).")
  var bundle: String = "."

  @Option(name: .customLong("pid-file"), help: "File to write the container's init pid to.")
  var pidFile: String?

  @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master.")
  var consoleSocket: String?

  @Option(name: .customLong("preserve-fds"), help: "Pass this many extra fds (3, 4, ...) to the container.")
  var preserveFDs: Int32 = 0

  @Flag(name: .customLong("no-pivot"), help: "Use MS_MOVE and chroot instead of pivot_root.")
  var noPivot = false

  @Flag(name: .customLong("no-new-keyring"), help: "Do not create a new session keyring.")
  var noNewKeyring = false

  func createOptions(id: String, systemd: Bool) throws(RuntimeError) -> CreateOptions {
    if preserveFDs < 0 { throw RuntimeError("--preserve-fds: must not be negative") }
    var o = CreateOptions(id: id, bundle: bundle)
    o.pidFile = pidFile
    o.consoleSocket = consoleSocket
    o.noPivot = noPivot
    o.noNewKeyring = noNewKeyring
    o.preserveFDs = preserveFDs
    o.systemdCgroup = systemd
    return o
  }
}

struct CreateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create", abstract: "Create a container; its process waits for `start`.")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var container: ContainerOptions
  @Argument(help: "Container id.") var id: String

  func run() throws {
    try global.perform { () throws(RuntimeError) in
      let creator = Creator(store: global.store, log: global.logger)
      _ = try creator.create(try container.createOptions(id: id, systemd: global.systemdCgroup))
    }
  }
}
