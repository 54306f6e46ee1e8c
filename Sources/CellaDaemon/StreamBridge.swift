import CellaAPI
import NIOCore

/// One side of an upgraded connection: what the daemon does with the client's frames.
protocol StreamSink: AnyObject, Sendable {
  /// Starts moving bytes; called once, on the event loop, right after the 101 went out.
  func start()
  /// A frame from the client (on the event loop: must not block).
  func received(_ frame: StreamFrame)
  /// The client went away or broke the protocol.
  func clientClosed()
}

/// Sends frames to the client from a bridge thread, waiting for each write (the backpressure).
struct ClientStream: Sendable {
  let channel: any Channel

  /// False once the client is gone.
  @discardableResult
  func send(_ bytes: [UInt8]) -> Bool {
    do {
      try channel.writeAndFlush(ByteBuffer(bytes: bytes)).wait()
      return true
    } catch {
      return false
    }
  }

  func send(_ frame: StreamFrame) -> Bool { send(frame.encoded) }

  func close() { channel.close(promise: nil) }
}

/// Decodes the client's frames after the upgrade and hands them to the sink.
final class StreamFrameHandler: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer

  private let sink: any StreamSink
  private var buffer: [UInt8] = []
  private var closed = false

  init(sink: any StreamSink) { self.sink = sink }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    var bytes = unwrapInboundIn(data)
    buffer += bytes.readBytes(length: bytes.readableBytes) ?? []
    while !closed {
      switch StreamFrame.decode(buffer) {
      case .incomplete:
        return
      case .frame(let frame, let consumed):
        buffer.removeFirst(consumed)
        sink.received(frame)
      case .invalid:
        // Not our protocol: nothing the client sends after this can be trusted.
        buffer = []
        context.close(promise: nil)
        return
      }
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    if !closed {
      closed = true
      sink.clientClosed()
    }
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}
