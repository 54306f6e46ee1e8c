import CellaAPI
import CellaDaemon
import CellaErrors
import Foundation

// `cella daemon` execs this program: the daemon's code (NIO, CellaHost, Yams) stays out of the CLI,
// whose start-up time grows with every protocol conformance linked into it (Docs/architecture.md).
var stateDir: String?
var socket: String?
var args = Array(CommandLine.arguments.dropFirst())[...]
func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("cella daemon: \(ErrorText.oneLine(message))\n".utf8))
  exit(1)
}
while let arg = args.popFirst() {
  switch arg {
  case "--state-dir":
    guard let value = args.popFirst() else { fail("--state-dir needs a directory") }
    stateDir = value
  case "--socket":
    guard let value = args.popFirst() else { fail("--socket needs a path") }
    socket = value
  default: fail("unknown argument \"\(arg)\" (use --state-dir DIR, --socket PATH)")
  }
}
let environment = ProcessInfo.processInfo.environment
let socketPath = socket ?? Endpoints.socket(environment: environment)
do {
  try DaemonServer.refuseIfRunning(socketPath)
  let service = try ServiceFactory.makeService(stateDir ?? Endpoints.stateDir(environment: environment), socketPath)
  try DaemonServer(service: service, socketPath: socketPath).run()
} catch let error as any KindedError {
  fail(error.message)
} catch {
  fail("\(error)")
}
