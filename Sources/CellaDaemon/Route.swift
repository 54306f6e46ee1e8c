import CellaAPI
import NIOHTTP1

/// A request as a handler sees it: the path's parameters already percent-decoded.
struct APIRequest: Sendable {
  var method: HTTPMethod
  /// The values of the pattern's `:name` segments, in order.
  var params: [String]
  var query: [String: String]
  var body: [UInt8]

  /// The first path parameter (the guest's, image's or profile's name).
  var name: String { params.first ?? "" }
}

/// A whole answer: status and body.
struct APIReply: Sendable {
  var status: Int
  var contentType: String
  var body: [UInt8]
}

/// What an upgraded route hands to the stream bridge.
enum StreamSource: Sendable {
  case exec(ExecProcess)
  case console(ConsoleAttachment, readonly: Bool)
}

/// One line of the routing table: a method, a path pattern and the one service call it makes.
struct Route: Sendable {
  enum Segment: Sendable, Equatable {
    case literal(String)
    case parameter
  }

  enum Action: Sendable {
    /// A plain request answered with one reply.
    case call(@Sendable (any CellaService, APIRequest) throws -> APIReply)
    /// A request that must carry `Upgrade: cella-stream` and continues as a stream of frames.
    case stream(@Sendable (any CellaService, APIRequest) throws -> StreamSource)
  }

  let method: HTTPMethod
  /// The pattern as written (`/1.0/guests/:name/ports/:proto/:port`).
  let path: String
  let pattern: [Segment]
  /// The query parameters the route understands; any other is refused.
  let query: Set<String>
  let action: Action

  /// `pattern` is a path whose `:word` segments are parameters, e.g. `/1.0/guests/:name/start`.
  init(_ method: HTTPMethod, _ pattern: String, query: Set<String> = [], _ action: Action) {
    self.method = method
    self.path = pattern
    self.pattern = pattern.split(separator: "/", omittingEmptySubsequences: true).map {
      $0.hasPrefix(":") ? .parameter : .literal(String($0))
    }
    self.query = query
    self.action = action
  }
}
