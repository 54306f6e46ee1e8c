import ArgumentParser
import CellaAPI
import CellaErrors
import FoundationEssentials

struct Exec: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exec",
    abstract: "Run a command in a running guest; exits with its exit code (128+N for signal N).")
  @Argument var name: String
  @Flag(name: .customShort("t"), help: "A pseudo-terminal (stdout and stderr become one stream).")
  var tty = false
  @Option(help: "uid[:gid] or a user name of the guest.")
  var user: String?
  @Option(help: "KEY=VALUE added to the environment; repeatable.")
  var env: [String] = []
  @Option(help: "The working directory.")
  var cwd: String?
  @Argument(parsing: .postTerminator, help: "The command, after --.")
  var command: [String] = []

  func run() throws {
    guard !command.isEmpty else { throw APIError(.invalidArgument, "exec \(name): no command given after --") }
    let request = ExecRequest(
      command: command, env: env.isEmpty ? nil : try Arguments.environment(env), cwd: cwd, user: user,
      tty: tty ? true : nil)
    throw try Exec.run(name, request)
  }

  /// Runs an exec request to its end: the exit status the CLI leaves with.
  static func run(_ name: String, _ request: ExecRequest) throws -> ExitStatus {
    var request = request
    if request.tty == true, let size = Terminal.size() {
      request.rows = size.rows
      request.cols = size.cols
    }
    let client = CLI.client
    let session: ExecSession = try client.post(Endpoints.guest(name, "exec"), request)
    let stream = try client.upgrade(Endpoints.exec(session.id))
    let end = try StreamSession(forwardStdin: true, terminal: request.tty == true, detachable: false).run(stream)
    guard case .exit(let payload) = end else { return ExitStatus(code: 1) }
    let exit: ExecExit
    do {
      exit = try JSONDecoder().decode(ExecExit.self, from: Data(payload))
    } catch {
      throw APIError(.system, "exec \(name): the daemon's exit status does not decode: \(error)")
    }
    if let error = exit.error { throw error }
    if let signal = exit.signal { return ExitStatus(code: Int32(128 + signal)) }
    return ExitStatus(code: Int32(exit.code ?? 1))
  }
}
