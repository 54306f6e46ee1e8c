import CellaEngine
import CellaRuntimeCore

/// One verb of the command line: its flags, its help, and what it does.
protocol Verb {
  static var name: String { get }
  static var abstract: String { get }
  /// What follows the flags, for the usage line ("ID", "ID COMMAND [ARG...]").
  static var arguments: String { get }
  static var flags: [FlagSpec] { get }
  /// Everything after this many positionals is passed through untouched (exec, ps).
  static var passthroughAfter: Int? { get }
  /// Runs the verb; returns the process exit code.
  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32
}

extension Verb {
  static var passthroughAfter: Int? { nil }

  /// The one positional most verbs take: the container id.
  static func id(_ args: ParsedArguments) throws(RuntimeError) -> String {
    guard let id = args.positionals.first else {
      throw RuntimeError("\(name): missing container id (usage: cella-runtime \(name) \(arguments))")
    }
    guard args.positionals.count == 1 else {
      throw RuntimeError(
        "\(name): unexpected argument \"\(args.positionals[1])\" (usage: cella-runtime \(name) \(arguments))")
    }
    return id
  }

  static func usage() -> String {
    var text = "Usage: cella-runtime [global flags] \(name) [flags] \(arguments)\n\n\(abstract)\n"
    let visible = flags.filter { !$0.hidden }
    if !visible.isEmpty { text += "\nFlags:\n" + helpLines(visible) }
    return text
  }
}

/// Aligned help lines for flags.
func helpLines(_ flags: [FlagSpec]) -> String {
  let heads = flags.map { f -> String in
    let long = "--\(f.name)" + (f.takesValue ? " VALUE" : "")
    return f.short.map { "  -\($0), \(long)" } ?? "      \(long)"
  }
  let width = (heads.map(\.count).max() ?? 0) + 2
  return zip(heads, flags).map { head, f in head + String(repeating: " ", count: width - head.count) + f.help + "\n" }
    .joined()
}

/// Converts a UsageError into the runtime's one error type.
func parsing<T>(_ body: () throws(UsageError) -> T) throws(RuntimeError) -> T {
  do { return try body() } catch { throw RuntimeError(error.message) }
}
