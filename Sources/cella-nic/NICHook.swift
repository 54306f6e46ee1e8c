import CellaNet
import CellaSys
import Glibc

/// `cella-nic --nic SPEC [--nic SPEC]...`: the OCI createRuntime hook that gives a guest its
/// NICs (`VethJoin`), reading the guest's init pid from the container state on stdin. Its error is one
/// line on stderr, which the runtime puts in its own error.
enum NICHook {
  static let usage = "usage: cella-nic --nic host=…,bridge=…,name=…,mac=…,ipv4=A/P[,gateway=G]..."

  /// Runs the hook; returns the exit status.
  static func main(_ arguments: ArraySlice<String>) -> Int32 {
    do throws(NetError) {
      let joins = try parse(arguments)
      let pid = try statePID(readInput())
      try VethJoin.apply(joins, pid: pid)
      return 0
    } catch {
      try? FileIO.writeAll(fd: 2, Array("cella-nic: \(error.message)\n".utf8))
      return 1
    }
  }

  static func parse(_ arguments: ArraySlice<String>) throws(NetError) -> [VethJoin] {
    var joins: [VethJoin] = []
    var rest = arguments
    while let flag = rest.popFirst() {
      guard flag == "--nic" else { throw NetError(.invalidArgument, "\(flag): unknown flag (\(usage))") }
      guard let value = rest.popFirst() else { throw NetError(.invalidArgument, "--nic: needs a value (\(usage))") }
      joins.append(try VethJoin.parse(value))
    }
    if joins.isEmpty { throw NetError(.invalidArgument, "no --nic given (\(usage))") }
    return joins
  }

  /// The OCI state the runtime writes to a hook's stdin (a few hundred bytes).
  static func readInput() throws(NetError) -> [UInt8] {
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while out.count < 1 << 20 {
      let n = buf.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { throw NetError("read the container state on stdin", errno: errno) }
      if n == 0 { break }
      out += buf[0..<n]
    }
    return out
  }

  /// The top-level `"pid"` of the state JSON. The keeper carries no JSON decoder (it stays small); the
  /// state comes from the runtime, so a scan that skips strings and nested values is enough.
  static func statePID(_ json: [UInt8]) throws(NetError) -> Int32 {
    var depth = 0
    var i = 0
    var lastString: ArraySlice<UInt8> = []
    while i < json.count {
      let c = json[i]
      if c == UInt8(ascii: "\"") {
        var j = i + 1
        while j < json.count && json[j] != UInt8(ascii: "\"") { j += json[j] == UInt8(ascii: "\\") ? 2 : 1 }
        lastString = json[min(i + 1, json.count)..<min(j, json.count)]
        i = j + 1
        continue
      }
      if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
      if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") { depth -= 1 }
      if c == UInt8(ascii: ":") && depth == 1 && Array(lastString) == Array("pid".utf8) {
        var j = i + 1
        while j < json.count && json[j] == UInt8(ascii: " ") { j += 1 }
        var digits = ""
        while j < json.count && json[j] >= 48 && json[j] <= 57 && digits.count < 10 {
          digits.append(Character(UnicodeScalar(json[j])))
          j += 1
        }
        if let pid = Int32(digits), pid > 0 { return pid }
        break
      }
      i += 1
    }
    throw NetError(.invalidArgument, "the container state on stdin has no pid")
  }
}
