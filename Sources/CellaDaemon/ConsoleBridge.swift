import CellaAPI
import Glibc

/// Joins a client to a guest's console: the history as `.stdout` frames, then the keeper's socket.
///
/// The keeper already speaks frames, so its bytes go to the client as they are; the client's `.stdin`
/// and `.resize` frames go to the keeper (none with `readonly`). When the guest is not running (no
/// keeper), the history is followed by an `.exit` frame whose payload is `{}` and the connection
/// closes; when it ends while attached, the keeper's own `.exit` frame (`{"code":N,…}`) is the last.
final class ConsoleBridge: StreamSink, @unchecked Sendable {
  /// History goes out in frames of at most this many bytes.
  static let chunk = 64 << 10

  private let attachment: ConsoleAttachment
  private let readonly: Bool
  private let client: ClientStream
  private let reader: FdReader?
  private let writer: FdWriter?

  init(attachment: ConsoleAttachment, readonly: Bool, client: ClientStream) {
    self.attachment = attachment
    self.readonly = readonly
    self.client = client
    if let keeper = attachment.keeper {
      reader = FdReader(fd: keeper)
      let writeSide = readonly ? -1 : dup(keeper)
      writer = writeSide >= 0 ? FdWriter(fd: writeSide) : nil
    } else {
      reader = nil
      writer = nil
    }
  }

  func start() {
    startThread { [self] in
      var offset = 0
      let history = attachment.history
      while offset < history.count {
        let end = min(offset + Self.chunk, history.count)
        guard client.send(StreamFrame(.stdout, Array(history[offset..<end]))) else { break }
        offset = end
      }
      guard let reader else {
        _ = client.send(StreamFrame(.exit, Array("{}".utf8)))
        client.close()
        return
      }
      reader.start(
        deliver: { [client] bytes in _ = client.send(bytes) },
        finished: { [client, writer] in
          writer?.finish()
          client.close()
        })
    }
  }

  func received(_ frame: StreamFrame) {
    guard !readonly, frame.kind == .stdin || frame.kind == .resize else { return }
    writer?.enqueue(.bytes(frame.encoded))
  }

  func clientClosed() {
    reader?.stop()
    writer?.finish()
  }
}
