import ArgumentParser
import CellaAPI
import CellaDaemon

struct Daemon: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the daemon: the API on its socket, and the guests' supervision (until SIGTERM/SIGINT).")
  @Option(help: "The state directory (default: $CELLA_STATE_DIR, else /var/lib/cella).")
  var stateDir: String?
  @Option(help: "The API socket (default: $CELLA_SOCKET, else /run/cella/cella.sock).")
  var socket: String?

  func run() throws {
    let environment = CLI.environment
    let stateDir = self.stateDir ?? Endpoints.stateDir(environment: environment)
    let socket = self.socket ?? Endpoints.socket(environment: environment)
    try DaemonServer.refuseIfRunning(socket)
    let service = try ServiceFactory.makeService(stateDir, socket)
    try DaemonServer(service: service, socketPath: socket).run()
  }
}
