import CellaEngine
import CellaRuntimeCore
import Glibc

/// `cella-runtime`: an OCI runtime with runc's command line.
nonisolated(unsafe) let verbs: [any Verb.Type] = [
  CreateCommand.self, StartCommand.self, RunCommand.self, StateCommand.self, KillCommand.self, DeleteCommand.self,
  ListCommand.self, ExecCommand.self, PsCommand.self, PauseCommand.self, ResumeCommand.self, UpdateCommand.self,
  EventsCommand.self, SpecCommand.self, FeaturesCommand.self,
]

let version = "cella-runtime version 0.1.0\nspec: 1.3.0\n"

func writeOut(_ text: String, fd: Int32 = 1) {
  let bytes = Array(text.utf8)
  var off = 0
  while off < bytes.count {
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
    if n <= 0 { break }
    off += n
  }
}

/// Prints one error line on stderr (and to the log file when there is one).
func reportError(_ message: String, logger: Logger?) {
  logger?.error(message)
  writeOut("cella-runtime: error: \(message)\n", fd: 2)
}

func mainUsage() -> String {
  let width = (verbs.map { $0.name.count }.max() ?? 0) + 4
  let lines = verbs.map {
    "  \($0.name)" + String(repeating: " ", count: width - $0.name.count - 2) + $0.abstract + "\n"
  }
  return "Usage: cella-runtime [global flags] VERB [flags] [arguments]\n\n"
    + "Run OCI containers as Cella security contexts (runc's command line).\n\nVerbs:\n" + lines.joined()
    + "\nGlobal flags:\n" + helpLines(Global.flags.filter { !$0.hidden })
}

/// Splits the global flags before the verb from the rest, then runs the verb.
func runMain(_ argv: [String]) -> Int32 {
  var args = argv.dropFirst()
  var globalArgs: [String] = []
  while let first = args.first, first.hasPrefix("-") {
    globalArgs.append(first)
    args = args.dropFirst()
    let name = String(first.drop { $0 == "-" }.split(separator: "=").first ?? "")
    if let spec = Global.flags.first(where: { $0.name == name }), spec.takesValue, !first.contains("="),
      let value = args.first
    {
      globalArgs.append(value)
      args = args.dropFirst()
    }
  }
  var logger: Logger? = nil
  do {
    let globals = try parsing { () throws(UsageError) in try ArgumentParser.parse(globalArgs[...], flags: Global.flags)
    }
    if globals.has("version") {
      writeOut(version)
      return 0
    }
    guard let verbName = args.first else {
      writeOut(mainUsage(), fd: globals.has("help") ? 1 : 2)
      return globals.has("help") ? 0 : 1
    }
    guard let verb = verbs.first(where: { $0.name == verbName }) else {
      throw RuntimeError("unknown verb \"\(verbName)\" (see cella-runtime --help)")
    }
    if globals.has("help") || args.dropFirst().first == "--help" || args.dropFirst().first == "-h" {
      writeOut(verb.usage())
      return 0
    }
    let parsed: ParsedArguments
    do {
      parsed = try ArgumentParser.parse(
        args.dropFirst(), flags: verb.flags + Global.flags, passthroughAfter: verb.passthroughAfter)
    } catch {
      throw RuntimeError("\(verb.name): \(error.message) (see cella-runtime \(verb.name) --help)")
    }
    var merged = globals
    for (k, v) in parsed.values where Global.flags.contains(where: { $0.name == k }) { merged.values[k] = v }
    let global = try Global(merged)
    if global.logPath != nil { logger = global.logger }
    return try verb.run(parsed, global)
  } catch let error as RuntimeError {
    reportError(error.message, logger: logger)
    return error.exitCode == 0 ? 1 : error.exitCode
  } catch {
    reportError("\(error)", logger: logger)
    return 1
  }
}

// A hook or a client that stops reading must give us EPIPE, not kill us; every child gets default
// handlers back (posix_spawn with SETSIGDEF, and init resets them before execve).
signal(SIGPIPE, SIG_IGN)
exit(runMain(CommandLine.arguments))
