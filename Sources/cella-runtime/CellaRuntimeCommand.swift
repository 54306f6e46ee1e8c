import ArgumentParser
import CellaRuntime
import Glibc

/// `cella-runtime`: an OCI runtime with runc's command line.
@main
struct CellaRuntimeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cella-runtime",
    abstract: "Run OCI containers as Cella security contexts (runc-compatible command line).",
    version: "cella-runtime version 0.1.0\nspec: 1.3.0",
    subcommands: [
      CreateCommand.self, StartCommand.self, RunCommand.self, StateCommand.self, KillCommand.self,
      DeleteCommand.self, ListCommand.self, SpecCommand.self, FeaturesCommand.self, ExecCommand.self, PsCommand.self,
      PauseCommand.self,
      ResumeCommand.self, UpdateCommand.self, EventsCommand.self,
    ])

  @OptionGroup var global: GlobalOptions

  /// Parses and runs; every failure is one `cella-runtime: error:` line and a non-zero exit.
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch let exit as ExitCode {
      Glibc.exit(exit.rawValue)
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        // --help and --version
        print(fullMessage(for: error))
        Glibc.exit(0)
      }
      let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
      reportError(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message, logger: nil)
      Glibc.exit(code.rawValue == 0 ? 1 : code.rawValue)
    }
  }
}

/// Prints one error line on stderr (and to the log file when there is one).
func reportError(_ message: String, logger: Logger?) {
  logger?.error(message)
  let line = Array("cella-runtime: error: \(message)\n".utf8)
  _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
