import CellaAPI
import Glibc

/// Runs an exec'd process's stdio over the client's stream.
///
/// Client `.stdin` → the process's stdin (or terminal), `.stdinClosed` → its stdin is closed (ignored
/// with a terminal, which has no separate input to close), `.resize` → `resizeExec`. Its stdout and
/// stderr (or the terminal) → `.stdout`/`.stderr` frames. Once every output is at end of file and
/// `waitExec` has returned, an `.exit` frame carries the `ExecExit` JSON and the connection closes.
/// A client that goes away closes the process's stdin; with a terminal the terminal is closed too
/// (the process gets SIGHUP), without one its output is drained and dropped until it ends.
final class ExecBridge: StreamSink, @unchecked Sendable {
  private let service: any CellaService
  private let process: ExecProcess
  private let client: ClientStream
  private let input: FdWriter?
  private let outputs: [(FdReader, StreamFrame.Kind)]
  private let monitor = Monitor()
  private var open: Int
  private var clientGone = false

  init(service: any CellaService, process: ExecProcess, client: ClientStream) {
    self.service = service
    self.process = process
    self.client = client
    if let terminal = process.terminal {
      let writeSide = dup(terminal)
      input = writeSide >= 0 ? FdWriter(fd: writeSide) : nil
      // The runtime's own stderr (its errors after handing the terminal over) goes out beside it.
      outputs = [(FdReader(fd: terminal), .stdout)] + (process.stderr.map { [(FdReader(fd: $0), .stderr)] } ?? [])
    } else {
      input = process.stdin.map { FdWriter(fd: $0) }
      outputs = [(process.stdout, StreamFrame.Kind.stdout), (process.stderr, .stderr)].compactMap { fd, kind in
        fd.map { (FdReader(fd: $0), kind) }
      }
    }
    open = outputs.count
  }

  func start() {
    if outputs.isEmpty { finish() }
    for (reader, kind) in outputs {
      reader.start(
        deliver: { [self] bytes in
          if !isClientGone { _ = client.send(StreamFrame(kind, bytes)) }
        },
        finished: { [self] in
          let last = monitor.locked {
            open -= 1
            return open == 0
          }
          if last { finish() }
        })
    }
  }

  func received(_ frame: StreamFrame) {
    switch frame.kind {
    case .stdin:
      input?.enqueue(.bytes(frame.payload))
    case .stdinClosed:
      if process.terminal == nil { input?.enqueue(.close) }
    case .resize:
      guard let size = frame.size else { return }
      let service = self.service
      let process = self.process
      input?.enqueue(.call { service.resizeExec(process, rows: size.rows, cols: size.cols) })
    case .stdout, .stderr, .exit:
      return
    }
  }

  func clientClosed() {
    monitor.locked { clientGone = true }
    input?.finish()
    if process.terminal != nil { outputs.forEach { $0.0.stop() } }
  }

  private var isClientGone: Bool { monitor.locked { clientGone } }

  /// Reaps the process off the event loop and sends its exit status.
  private func finish() {
    startThread { [self] in
      let exit = service.waitExec(process)
      input?.finish()
      let payload = (try? BodyCoding.encode(exit)) ?? Array("{}".utf8)
      _ = client.send(StreamFrame(.exit, payload))
      client.close()
    }
  }
}
