import CellaAPI
import CellaErrors
import Glibc

/// An upgraded connection: frames both ways over the socket's fd.
public final class StreamConnection {
  private let socket: SocketReader
  private var pending: [StreamFrame] = []

  init(socket: SocketReader) { self.socket = socket }

  deinit { socket.close() }

  /// The socket, for poll(2).
  public var fd: Int32 { socket.fd }

  /// Sends one frame.
  public func send(_ frame: StreamFrame) throws(APIError) {
    try socket.writeAll(frame.encoded)
  }

  /// The whole frames already read and not yet returned (the 101's packet may carry some).
  public func bufferedFrames() throws(APIError) -> [StreamFrame] {
    try decodeBuffer()
    defer { pending = [] }
    return pending
  }

  /// Reads once (blocking) and returns the whole frames now available; nil at end of stream.
  public func readFrames() throws(APIError) -> [StreamFrame]? {
    guard try socket.fill() else {
      guard socket.buffer.isEmpty else { throw malformed("it ends inside a frame") }
      return nil
    }
    return try bufferedFrames()
  }

  /// Blocks until the next frame; nil at end of stream.
  public func nextFrame() throws(APIError) -> StreamFrame? {
    while true {
      try decodeBuffer()
      if !pending.isEmpty { return pending.removeFirst() }
      guard try socket.fill() else {
        guard socket.buffer.isEmpty else { throw malformed("it ends inside a frame") }
        return nil
      }
    }
  }

  /// Half-closes the sending side (nothing more from this client).
  public func shutdownSending() { shutdown(socket.fd, Int32(SHUT_WR)) }

  private func decodeBuffer() throws(APIError) {
    while true {
      switch StreamFrame.decode(socket.buffer) {
      case .incomplete: return
      case .frame(let frame, let consumed):
        socket.buffer.removeFirst(consumed)
        pending.append(frame)
      case .invalid(let why): throw malformed(why)
      }
    }
  }

  private func malformed(_ why: String) -> APIError {
    APIError(.system, "\(socket.what): the daemon's stream is malformed: \(why)")
  }
}
