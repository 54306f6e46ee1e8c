import CellaEngine
import CellaRuntimeCore
import CellaSys

enum KillCommand: Verb {
  static let name = "kill"
  static let abstract = "send a signal to a container (default TERM)"
  static let arguments = "ID [SIGNAL]"
  static let flags: [FlagSpec] = [FlagSpec("all", short: "a", "signal every process of the container")]

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    guard let id = args.positionals.first, args.positionals.count <= 2 else {
      throw RuntimeError("kill: usage: cella-runtime kill [--all] ID [SIGNAL]")
    }
    let text = args.positionals.count == 2 ? args.positionals[1] : "TERM"
    guard let number = Signals.parse(text) else {
      throw RuntimeError("unknown signal \"\(text)\" (use a name like TERM or a number like 15)")
    }
    try Lifecycle(store: global.store, log: global.logger).kill(id: id, signal: number, all: args.has("all"))
    return 0
  }
}

enum DeleteCommand: Verb {
  static let name = "delete"
  static let abstract = "delete a stopped container (--force kills it first)"
  static let arguments = "ID"
  static let flags: [FlagSpec] = [FlagSpec("force", short: "f", "kill the container if it still runs")]

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    try Lifecycle(store: global.store, log: global.logger).delete(id: try id(args), force: args.has("force"))
    return 0
  }
}

enum PauseCommand: Verb {
  static let name = "pause"
  static let abstract = "freeze every process of a container"
  static let arguments = "ID"
  static let flags: [FlagSpec] = []

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    try Lifecycle(store: global.store, log: global.logger).pause(id: try id(args))
    return 0
  }
}

enum ResumeCommand: Verb {
  static let name = "resume"
  static let abstract = "thaw a paused container"
  static let arguments = "ID"
  static let flags: [FlagSpec] = []

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    try Lifecycle(store: global.store, log: global.logger).resume(id: try id(args))
    return 0
  }
}
