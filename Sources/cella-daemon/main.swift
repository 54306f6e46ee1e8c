import CellaAPI
import CellaDaemon
import CellaErrors
import CellaSys
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
  // Start-up (Swift's first protocol-conformance lookups scan the whole binary's metadata, re-adoption)
  // and each burst of requests leave up to ~15 MB of this program's code mapped that an idle daemon does
  // not run again; handing it back every minute keeps the daemon's share per guest small
  // (Docs/benchmarks.md). A page needed again comes back from the page cache with a minor fault.
  CodePages.release()
  let trim = DispatchSource.makeTimerSource(queue: .global())
  trim.schedule(deadline: .now() + 15, repeating: 60)
  trim.setEventHandler { CodePages.release() }
  trim.resume()
  try DaemonServer(service: service, socketPath: socketPath).run()
} catch let error as any KindedError {
  fail(error.message)
} catch {
  fail("\(error)")
}
