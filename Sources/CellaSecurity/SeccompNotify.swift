import CShims
import CellaErrors
import CellaOCI
import CellaSys
import Glibc

/// Hands a seccomp user-notification fd to the listener named in `linux.seccomp.listenerPath`.
public enum SeccompNotify {
  /// Sends the listener fd (SCM_RIGHTS) and the container state JSON to the listener at listenerPath, as the OCI spec's "seccomp notify" section describes (the message is the `containerProcessState` JSON: ociVersion, fds ["seccompFd"], pid, metadata = listenerMetadata, state {...}).
  public static func send(listenerFD: Int32, listenerPath: String, metadata: String?, pid: Int32, stateJSON: String)
    throws(SeccompError)
  {
    let field = "linux.seccomp.listenerPath"
    guard listenerFD >= 0 else { throw SeccompError("seccomp notify: no listener fd to send") }
    let message = Array(containerProcessState(metadata: metadata, pid: pid, stateJSON: stateJSON).utf8)

    let socket: FileDescriptor
    do { socket = try FileDescriptor.socket(domain: AF_UNIX, type: Int32(SOCK_STREAM.rawValue)) } catch {
      throw SeccompError(field: field, "socket: \(error.reason)")
    }
    let sock = socket.rawValue

    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let path = Array(listenerPath.utf8)
    // sun_path must keep its terminating NUL.
    guard !path.isEmpty, path.count < cella_sun_path_size() else {
      throw SeccompError(field: field, "\(jsonQuote(listenerPath)) is empty or longer than a unix socket path allows")
    }
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
      raw.copyBytes(from: path)
    }
    let connected = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(sock, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    if connected != 0 {
      throw SeccompError(
        field: field, "connecting to \(listenerPath): \(ErrorText.errno(errno)); is the listener running?")
    }

    // The fd rides on the first sendmsg; on a stream socket the rest of a
    // long state may need further writes.
    var sent = message.withUnsafeBytes { cella_send_with_fd(sock, $0.baseAddress, $0.count, listenerFD) }
    if sent < 0 { throw SeccompError(field: field, "sending to \(listenerPath): \(ErrorText.errno(errno))") }
    while sent < message.count {
      let n = message.withUnsafeBytes { Glibc.send(sock, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { throw SeccompError(field: field, "sending to \(listenerPath): \(ErrorText.errno(errno))") }
      sent += n
    }
  }

  /// The spec's containerProcessState document. `stateJSON` is the runtime's
  /// state object, already serialised, and is embedded as is.
  static func containerProcessState(metadata: String?, pid: Int32, stateJSON: String) -> String {
    var json = "{\"ociVersion\":\(jsonQuote(OCIVersion.current)),\"fds\":[\"seccompFd\"],\"pid\":\(pid)"
    if let metadata, !metadata.isEmpty { json += ",\"metadata\":\(jsonQuote(metadata))" }
    json += ",\"state\":\(stateJSON)}"
    return json
  }

}
