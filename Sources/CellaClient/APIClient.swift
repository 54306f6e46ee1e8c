import CellaAPI
import CellaErrors
import FoundationEssentials

/// An answer of the daemon: its status, headers (names lowercased) and body.
public struct HTTPResponse: Sendable {
  public var status: Int
  public var headers: [String: String]
  public var body: [UInt8]
}

/// A blocking HTTP/1.1 client of the daemon's API over its unix socket (one connection per call).
public struct APIClient: Sendable {
  /// The socket the daemon listens on.
  public let socketPath: String

  /// A client of the daemon on `socketPath`.
  public init(socketPath: String) { self.socketPath = socketPath }

  /// A client of the daemon named by `CELLA_SOCKET`, else the default socket.
  public init(environment: [String: String]) { self.init(socketPath: Endpoints.socket(environment: environment)) }

  /// GET, decoded.
  public func get<T: Decodable>(_ path: String, as type: T.Type = T.self) throws(APIError) -> T {
    try decode(T.self, call("GET", path), "GET", path)
  }

  /// POST of `body` (or none), decoded.
  public func post<T: Decodable>(_ path: String, _ body: (some Encodable)?, as type: T.Type = T.self) throws(APIError)
    -> T
  {
    try decode(T.self, call("POST", path, encode(body)), "POST", path)
  }

  /// PATCH of `body`, decoded.
  public func patch<T: Decodable>(_ path: String, _ body: some Encodable, as type: T.Type = T.self) throws(APIError)
    -> T
  {
    try decode(T.self, call("PATCH", path, encode(body)), "PATCH", path)
  }

  /// PUT of `body`, decoded.
  public func put<T: Decodable>(_ path: String, _ body: some Encodable, as type: T.Type = T.self) throws(APIError)
    -> T
  {
    try decode(T.self, call("PUT", path, encode(body)), "PUT", path)
  }

  /// DELETE.
  public func delete(_ path: String) throws(APIError) {
    _ = try call("DELETE", path)
  }

  /// Any call: a 2xx answer, or the daemon's error (its envelope, else one naming the status).
  public func call(_ method: String, _ path: String, _ body: [UInt8]? = nil) throws(APIError) -> HTTPResponse {
    let response = try send(method, path, body)
    guard (200..<300).contains(response.status) else { throw Self.error(of: response, method, path) }
    return response
  }

  /// Any call, whatever its status.
  public func send(_ method: String, _ path: String, _ body: [UInt8]? = nil, headers: [(String, String)] = [])
    throws(APIError) -> HTTPResponse
  {
    let what = "\(method) \(path)"
    let socket = try SocketReader.connect(socketPath, what: what)
    defer { socket.close() }
    do {
      try socket.writeAll(Self.head(method, path, body: body, extra: headers + [("Connection", "close")]))
    } catch {
      // The daemon may answer before reading everything (413) and close: its answer is the better error.
      if let early = try? HTTPParsing.response(from: socket, method: method) { return early }
      throw error
    }
    return try HTTPParsing.response(from: socket, method: method)
  }

  /// Opens a stream (exec, console): the request with `Upgrade: cella-stream`; after the 101 the
  /// connection carries frames. A non-101 answer is thrown as the daemon's error.
  public func upgrade(_ path: String) throws(APIError) -> StreamConnection {
    let what = "GET \(path)"
    let socket = try SocketReader.connect(socketPath, what: what)
    do throws(APIError) {
      try socket.writeAll(
        Self.head("GET", path, body: nil, extra: [("Connection", "Upgrade"), ("Upgrade", StreamFrame.upgradeToken)]))
      let (status, headers) = try HTTPParsing.head(from: socket)
      guard status == 101 else {
        let body = try HTTPParsing.body(from: socket, headers: headers, status: status, method: "GET")
        throw Self.error(of: HTTPResponse(status: status, headers: headers, body: body), "GET", path)
      }
      return StreamConnection(socket: socket)
    } catch {
      socket.close()
      throw error
    }
  }

  static func head(_ method: String, _ path: String, body: [UInt8]?, extra: [(String, String)]) -> [UInt8] {
    var text = "\(method) \(path) HTTP/1.1\r\nHost: cella\r\n"
    if let body {
      text += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
    }
    for (name, value) in extra { text += "\(name): \(value)\r\n" }
    text += "\r\n"
    return Array(text.utf8) + (body ?? [])
  }

  /// The envelope's error, or one naming the status when the answer has none.
  static func error(of response: HTTPResponse, _ method: String, _ path: String) -> APIError {
    if let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body)) {
      return envelope.error
    }
    return APIError(.system, "\(method) \(path): the daemon answered HTTP \(response.status) without an error")
  }

  private func encode(_ body: (some Encodable)?) throws(APIError) -> [UInt8]? {
    guard let body else { return nil }
    do {
      return Array(try JSONEncoder().encode(body))
    } catch {
      throw APIError(.internal, "encoding the request: \(error)")
    }
  }

  private func decode<T: Decodable>(_ type: T.Type, _ response: HTTPResponse, _ method: String, _ path: String)
    throws(APIError) -> T
  {
    do {
      return try JSONDecoder().decode(T.self, from: Data(response.body))
    } catch {
      throw APIError(.internal, "\(method) \(path): the daemon's answer does not decode as \(T.self): \(error)")
    }
  }
}

/// The parts of an HTTP/1.1 answer: status line and headers, then a Content-Length, chunked or
/// until-close body.
enum HTTPParsing {
  static func response(from socket: SocketReader, method: String) throws(APIError) -> HTTPResponse {
    let (status, headers) = try head(from: socket)
    let body = try body(from: socket, headers: headers, status: status, method: method)
    return HTTPResponse(status: status, headers: headers, body: body)
  }

  static func head(from socket: SocketReader) throws(APIError) -> (Int, [String: String]) {
    let statusLine = try socket.readLine()
    let parts = statusLine.split(separator: " ", maxSplits: 2)
    guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
      throw socket.truncated("status line \"\(statusLine.prefix(80))\"")
    }
    var headers = [String: String]()
    while true {
      let line = try socket.readLine()
      if line.isEmpty { break }
      guard let colon = line.firstIndex(of: ":") else { throw socket.truncated("header line \"\(line.prefix(80))\"") }
      let name = line[..<colon].lowercased()
      let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
      headers[name] = headers[name].map { $0 + ", " + value } ?? value
    }
    return (status, headers)
  }

  static func body(from socket: SocketReader, headers: [String: String], status: Int, method: String)
    throws(APIError) -> [UInt8]
  {
    if method == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status) { return [] }
    if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
      var out = [UInt8]()
      while true {
        let line = try socket.readLine()
        let sizeText = line.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: " \t") } ?? ""
        guard let size = Int(sizeText, radix: 16), size >= 0 else {
          throw socket.truncated("chunk size \"\(line.prefix(40))\"")
        }
        if size == 0 {
          while !(try socket.readLine()).isEmpty {}
          return out
        }
        out += try socket.readExactly(size)
        _ = try socket.readLine()
      }
    }
    if let length = headers["content-length"] {
      guard let n = Int(length), n >= 0 else { throw socket.truncated("Content-Length \"\(length)\"") }
      return try socket.readExactly(n)
    }
    return try socket.readToEnd()
  }
}

extension StringProtocol {
  fileprivate func trimmingCharacters(in set: String) -> String {
    var s = Substring(self)
    while let c = s.first, set.contains(c) { s.removeFirst() }
    while let c = s.last, set.contains(c) { s.removeLast() }
    return String(s)
  }
}
