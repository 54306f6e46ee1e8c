import ArgumentParser
import CellaAPI
import Glibc

struct Daemon: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "daemon",
    abstract: "Run the daemon: the API on its socket, and the guests' supervision (until SIGTERM/SIGINT).")
  @Option(help: "The state directory (default: $CELLA_STATE_DIR, else /var/lib/cella).")
  var stateDir: String?
  @Option(help: "The API socket (default: $CELLA_SOCKET, else /run/cella/cella.sock).")
  var socket: String?

  /// The daemon is its own program next to this one (`cella-daemon`); this verb becomes it.
  func run() throws {
    let me = CLI.executablePath
    let dir = me.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    let daemon = (dir.isEmpty ? "." : dir) + "/cella-daemon"
    var argv = [daemon]
    if let stateDir { argv += ["--state-dir", stateDir] }
    if let socket { argv += ["--socket", socket] }
    let cargv = argv.map { strdup($0) } + [nil]
    execv(daemon, cargv)
    throw APIError(
      .notFound, "\(daemon): \(String(cString: strerror(errno))) (build it: swift build --product cella-daemon)")
  }
}
