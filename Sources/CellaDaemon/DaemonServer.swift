import CellaAPI
import CellaErrors
import Dispatch
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

/// The REST API on a unix socket: every route is one call of `service`, run on a thread pool.
public final class DaemonServer: @unchecked Sendable {
  /// Threads the service's (blocking) calls run on.
  public static let poolThreads = 16

  private let service: any CellaService
  private let socketPath: String
  private let monitor = Monitor()
  private var group: MultiThreadedEventLoopGroup?
  private var pool: NIOThreadPool?
  private var channel: (any Channel)?
  private var inode: ino_t = 0
  private var stopped = false

  /// A server of `service` on `socketPath` (not yet listening).
  public init(service: any CellaService, socketPath: String) {
    self.service = service
    self.socketPath = socketPath
  }

  /// Listens on the socket and serves until SIGTERM or SIGINT, then removes the socket file.
  public func run() throws {
    let signals = DispatchQueue(label: "cella.daemon.signals")
    let done = DispatchSemaphore(value: 0)
    var sources = [any DispatchSourceSignal]()
    for sig in [SIGTERM, SIGINT] {
      signal(sig, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: sig, queue: signals)
      source.setEventHandler { done.signal() }
      source.resume()
      sources.append(source)
    }
    try start()
    done.wait()
    sources.forEach { $0.cancel() }
    stop()
  }

  /// Starts listening and returns; `stop()` ends it (what tests and `run()` use).
  public func start() throws {
    // A client that leaves mid-answer must cost an EPIPE, not the daemon.
    signal(SIGPIPE, SIG_IGN)
    try SocketFile.prepare(socketPath)
    let fd = try SocketFile.bind(socketPath)
    let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, min(4, System.coreCount)))
    let pool = NIOThreadPool(numberOfThreads: Self.poolThreads)
    pool.start()
    let server = ServerContext(router: Router(routes: Routes.table), service: service, pool: pool)
    let bootstrap = ServerBootstrap(group: group)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let sync = channel.pipeline.syncOperations
          try sync.addHandler(HTTPResponseEncoder(), name: HandlerName.encoder)
          try sync.addHandler(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)), name: HandlerName.decoder)
          try sync.addHandler(HTTPServerProtocolErrorHandler(), name: HandlerName.errors)
          try sync.addHandler(HTTPHandler(server: server), name: HandlerName.http)
        }
      }
    let channel: any Channel
    do {
      channel = try bootstrap.withBoundSocket(fd).wait()
    } catch {
      unlink(socketPath)
      try? pool.syncShutdownGracefully()
      try? group.syncShutdownGracefully()
      throw DaemonError(.system, "socket \(socketPath): \(error)")
    }
    monitor.locked {
      self.group = group
      self.pool = pool
      self.channel = channel
      self.inode = SocketFile.inode(socketPath)
    }
  }

  /// Stops listening, removes the socket file (if still ours) and ends the threads.
  public func stop() {
    let (channel, group, pool, inode) = monitor.locked {
      () -> ((any Channel)?, MultiThreadedEventLoopGroup?, NIOThreadPool?, ino_t) in
      guard !stopped else { return (nil, nil, nil, 0) }
      stopped = true
      return (self.channel, self.group, self.pool, self.inode)
    }
    guard let channel else { return }
    try? channel.close().wait()
    SocketFile.remove(socketPath, inode: inode)
    try? group?.syncShutdownGracefully()
    try? pool?.syncShutdownGracefully()
  }
}
