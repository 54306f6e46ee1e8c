import ArgumentParser
import CellaAPI
import CellaClient
import CellaErrors
import Glibc

/// The root command and the one place errors become a line on stderr and an exit code.
struct Cella: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cella",
    abstract: "Manage guests (named, persistent containers), images and profiles through the cella daemon.",
    subcommands: [
      Create.self, Launch.self, Start.self, Stop.self, Restart.self, Kill.self, Delete.self, List.self, Info.self,
      Exec.self, Enter.self, Console.self, Logs.self, ConfigCommand.self, ProfileCommand.self, ImageCommand.self,
      NetworkCommand.self, PortCommand.self, Daemon.self,
    ])
}

/// The process's exit status, thrown by `exec` (its process's code) and by detaching commands.
struct ExitStatus: Error {
  let code: Int32
}

enum CLI {
  /// The exit code of an error kind: the shell's 127/126 for a command that cannot run, else 1.
  static func exitCode(for kind: ErrorKind) -> Int32 {
    switch kind {
    case .executableNotFound: return 127
    case .executableNotRunnable: return 126
    default: return 1
    }
  }

  /// Prints `cella: <message>` (one line) on stderr.
  static func fail(_ message: String) {
    Output.write(Array(("cella: " + ErrorText.oneLine(message) + "\n").utf8), to: 2)
  }

  /// Runs the command line. Usage errors (argument parser) print their first line and exit 1, like
  /// every other error: scripts need only tell 0, 1, 126, 127 and an exec'd process's own code apart.
  static func main(_ arguments: [String]) -> Never {
    do {
      var command = try Cella.parseAsRoot(arguments)
      try command.run()
      exit(0)
    } catch let status as ExitStatus {
      exit(status.code)
    } catch let error as any KindedError {
      fail(error.message)
      exit(exitCode(for: error.kind))
    } catch {
      if Cella.exitCode(for: error) == .success {
        print(Cella.fullMessage(for: error))
        exit(0)
      }
      let message = Cella.message(for: error)
      let first = message.split(separator: "\n").first.map(String.init) ?? "\(error)"
      fail(first.hasPrefix("Error: ") ? String(first.dropFirst(7)) : first)
      exit(1)
    }
  }

  /// This program's own path (`/proc/self/exe`), to find the programs installed next to it.
  static var executablePath: String {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    guard n > 0 else { return CommandLine.arguments[0] }
    return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// The environment as `Endpoints` reads it.
  static var environment: [String: String] {
    var out = [String: String]()
    for name in [Endpoints.socketVariable, Endpoints.stateDirVariable, "EDITOR", "VISUAL"] {
      if let value = getenv(name) { out[name] = String(cString: value) }
    }
    return out
  }

  /// The client of the daemon `CELLA_SOCKET` names.
  static var client: APIClient { APIClient(environment: environment) }
}
