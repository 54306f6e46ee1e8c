import CellaEngine
import CellaOCI
import CellaRuntimeCore

/// --preserve-fds of create, run and exec: fds 3...3+N-1 are passed, so 3+N must stay an fd number.
let preservedFDCounts: ClosedRange<Int32> = 0...(Int32.max - 3)

/// Flags shared by `create` and `run`.
let containerFlags: [FlagSpec] = [
  FlagSpec("bundle", short: "b", value: true, "path to the bundle (default: current directory)"),
  FlagSpec("pid-file", value: true, "file to write the container's init pid to"),
  FlagSpec("console-socket", value: true, "unix socket that receives the pty master"),
  FlagSpec("preserve-fds", value: true, "pass this many extra fds (3, 4, ...) to the container"),
  FlagSpec("no-pivot", "use MS_MOVE and chroot instead of pivot_root"),
  FlagSpec("no-new-keyring", "do not create a new session keyring"),
]

/// CreateOptions from the shared flags.
func createOptions(_ args: ParsedArguments, id: String, global: Global) throws(RuntimeError) -> CreateOptions {
  var o = CreateOptions(id: id, bundle: args.string("bundle") ?? ".")
  o.pidFile = args.string("pid-file")
  o.consoleSocket = args.string("console-socket")
  o.noPivot = args.has("no-pivot")
  o.noNewKeyring = args.has("no-new-keyring")
  o.preserveFDs = try parsing { () throws(UsageError) in try args.int("preserve-fds", in: preservedFDCounts) } ?? 0
  o.systemdCgroup = global.systemdCgroup
  return o
}

enum CreateCommand: Verb {
  static let name = "create"
  static let abstract = "create a container; its process waits for `start`"
  static let arguments = "ID"
  static let flags = containerFlags

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    let creator = Creator(store: global.store, log: global.logger)
    _ = try creator.create(try createOptions(args, id: try id(args), global: global))
    return 0
  }
}

enum RunCommand: Verb {
  static let name = "run"
  static let abstract = "create and start a container, and wait for it unless --detach"
  static let arguments = "ID"
  static let flags =
    containerFlags + [
      FlagSpec("detach", short: "d", "do not wait for the container"),
      FlagSpec("keep", "keep the container's state after it exits"),
    ]

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    let creator = Creator(store: global.store, log: global.logger)
    let options = try createOptions(args, id: try id(args), global: global)
    return try creator.run(options, detach: args.has("detach"), keep: args.has("keep"))
  }
}

enum StartCommand: Verb {
  static let name = "start"
  static let abstract = "run the user process of a created container"
  static let arguments = "ID"
  static let flags: [FlagSpec] = []

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    try Lifecycle(store: global.store, log: global.logger).start(id: try id(args))
    return 0
  }
}
