import CellaAPI
import NIOCore
import NIOHTTP1
import NIOPosix

/// What every connection shares: the routes, the service and the pool its calls run on.
struct ServerContext: Sendable {
  let router: Router
  let service: any CellaService
  let pool: NIOThreadPool
}

/// One connection's HTTP/1.1 requests, one at a time: route, call the service on the pool, answer.
/// A stream route answers 101 and hands the connection to a `StreamSink`.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  /// The largest request body accepted (413 above it).
  static let maxBody = 1 << 20

  private let server: ServerContext
  private var head: HTTPRequestHead?
  private var body: [UInt8] = []
  private var tooLarge = false
  /// A request is with the service; parts of the next one (pipelining) wait here.
  private var busy = false
  private var queued: [HTTPServerRequestPart] = []
  private var upgraded = false

  init(server: ServerContext) { self.server = server }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let part = unwrapInboundIn(data)
    if busy || upgraded {
      queued.append(part)
      return
    }
    handle(part, context: context)
  }

  private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
    switch part {
    case .head(let h):
      head = h
      body = []
      tooLarge = false
      if let length = h.headers.first(name: "content-length").flatMap(Int.init), length > Self.maxBody {
        refuseTooLarge(context: context)
      }
    case .body(var buffer):
      guard !tooLarge else { return }
      if body.count + buffer.readableBytes > Self.maxBody {
        refuseTooLarge(context: context)
        return
      }
      body += buffer.readBytes(length: buffer.readableBytes) ?? []
    case .end:
      guard !tooLarge, let head else { return }
      self.head = nil
      dispatch(head, body, context: context)
    }
  }

  private func refuseTooLarge(context: ChannelHandlerContext) {
    tooLarge = true
    let error = DaemonError(.invalidArgument, "request body: larger than \(Self.maxBody) bytes")
    var reply = BodyCoding.errorReply(error)
    reply.status = 413
    // The rest of the body is not read: the connection cannot carry another request.
    send(reply, keepAlive: false, context: context)
  }

  private func dispatch(_ head: HTTPRequestHead, _ body: [UInt8], context: ChannelHandlerContext) {
    let keepAlive = head.isKeepAlive
    let route: Route
    let request: APIRequest
    do {
      (route, request) = try server.router.resolve(method: head.method, uri: head.uri, body: body)
    } catch {
      var reply = BodyCoding.errorReply(error)
      if let status = error.status { reply.status = status }
      send(reply, keepAlive: keepAlive, context: context)
      return
    }
    let service = server.service
    busy = true
    switch route.action {
    case .call(let call):
      let future = server.pool.runIfActive(eventLoop: context.eventLoop) { () -> APIReply in
        do { return try call(service, request) } catch { return BodyCoding.errorReply(error) }
      }
      future.assumeIsolated().whenComplete { [self] result in
        let reply: APIReply
        switch result {
        case .success(let r): reply = r
        case .failure(let error): reply = BodyCoding.errorReply(DaemonError(.internal, "daemon is stopping: \(error)"))
        }
        send(reply, keepAlive: keepAlive, context: context)
      }
    case .stream(let open):
      guard Self.asksForStream(head) else {
        let error = DaemonError(
          .invalidArgument,
          "\(head.method.rawValue) \(Router.split(head.uri).0): needs Connection: Upgrade and Upgrade: \(StreamFrame.upgradeToken)"
        )
        send(BodyCoding.errorReply(error), keepAlive: keepAlive, context: context)
        return
      }
      let future = server.pool.runIfActive(eventLoop: context.eventLoop) { try open(service, request) }
      future.assumeIsolated().whenComplete { [self] result in
        switch result {
        case .success(let source): upgrade(to: source, context: context)
        case .failure(let error): send(BodyCoding.errorReply(error), keepAlive: keepAlive, context: context)
        }
      }
    }
  }

  static func asksForStream(_ head: HTTPRequestHead) -> Bool {
    let connection = head.headers[canonicalForm: "connection"].map { $0.lowercased() }
    let upgrade = head.headers[canonicalForm: "upgrade"].map { $0.lowercased() }
    return connection.contains("upgrade") && upgrade.contains(StreamFrame.upgradeToken)
  }

  private func send(_ reply: APIReply, keepAlive: Bool, context: ChannelHandlerContext) {
    var headers = HTTPHeaders()
    headers.add(name: "Content-Type", value: reply.contentType)
    headers.add(name: "Content-Length", value: "\(reply.body.count)")
    if !keepAlive { headers.add(name: "Connection", value: "close") }
    let status = HTTPResponseStatus(statusCode: reply.status)
    context.write(
      wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: reply.body)))), promise: nil)
    let done = context.eventLoop.makePromise(of: Void.self)
    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
    busy = false
    if !keepAlive {
      done.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
      return
    }
    // Requests that arrived while this one was with the service.
    while !busy && !queued.isEmpty && !upgraded {
      handle(queued.removeFirst(), context: context)
    }
  }

  /// 101, then the connection belongs to the stream: the HTTP handlers leave the pipeline.
  private func upgrade(to source: StreamSource, context: ChannelHandlerContext) {
    upgraded = true
    let client = ClientStream(channel: context.channel)
    let sink: any StreamSink
    switch source {
    case .exec(let process): sink = ExecBridge(service: server.service, process: process, client: client)
    case .console(let attachment, let readonly):
      sink = ConsoleBridge(attachment: attachment, readonly: readonly, client: client)
    }
    var headers = HTTPHeaders()
    headers.add(name: "Connection", value: "Upgrade")
    headers.add(name: "Upgrade", value: StreamFrame.upgradeToken)
    context.write(
      wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers))),
      promise: nil)
    let sent = context.eventLoop.makePromise(of: Void.self)
    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: sent)
    sent.futureResult.assumeIsolated().whenComplete { result in
      let pipeline = context.pipeline.syncOperations
      do {
        try result.get()
        try pipeline.addHandler(StreamFrameHandler(sink: sink), name: HandlerName.stream)
        for name in [HandlerName.errors, HandlerName.http, HandlerName.encoder, HandlerName.decoder] {
          _ = try pipeline.context(name: name)
          context.pipeline.removeHandler(name: name, promise: nil)
        }
        sink.start()
      } catch {
        sink.clientClosed()
        context.close(promise: nil)
      }
    }
  }
}

/// The names of the per-connection handlers (the upgrade removes the HTTP ones by name).
enum HandlerName {
  static let encoder = "http-encoder"
  static let decoder = "http-decoder"
  static let errors = "http-errors"
  static let http = "http"
  static let stream = "stream"
}

extension Error {
  /// A routing error's own status (405), when it has one.
  fileprivate var status: Int? { (self as? DaemonError)?.status }
}
