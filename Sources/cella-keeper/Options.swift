/// The keeper's command line: `--runtime PATH --root DIR --id ID --bundle DIR --log-max BYTES [--preserve-fds N] [--vm-events SOCKET]`.
struct Options {
  var runtime = ""
  var root = ""
  var id = ""
  var bundle = ""
  /// console.log's size limit; past it the log moves to console.log.1 and a new one starts.
  var logMax = 0
  /// fds 3…3+N-1 the keeper inherited for the guest's process (a VM's taps and serial devices).
  var preserveFDs = 0
  /// A VM guest's QMP event socket (relative to the guest dir) QEMU connects to.
  var vmEvents = ""

  static let usage =
    "usage: cella-keeper --runtime PATH --root DIR --id ID --bundle DIR --log-max BYTES [--preserve-fds N] [--vm-events SOCKET]"

  static func parse(_ arguments: ArraySlice<String>) throws(KeeperError) -> Options {
    var o = Options()
    var seen: [String] = []
    var rest = arguments
    while let flag = rest.popFirst() {
      guard let value = rest.popFirst() else { throw KeeperError("\(flag): needs a value (\(usage))") }
      guard !seen.contains(flag) else { throw KeeperError("\(flag): given twice") }
      seen.append(flag)
      switch flag {
      case "--runtime": o.runtime = value
      case "--root": o.root = value
      case "--id": o.id = value
      case "--bundle": o.bundle = value
      case "--log-max":
        guard let n = Int(value), n > 0 else { throw KeeperError("--log-max \(value): not a positive byte count") }
        o.logMax = n
      case "--preserve-fds":
        guard let n = Int(value), (0...64).contains(n) else {
          throw KeeperError("--preserve-fds \(value): not a count from 0 to 64")
        }
        o.preserveFDs = n
      case "--vm-events": o.vmEvents = value
      default: throw KeeperError("\(flag): unknown flag (\(usage))")
      }
    }
    for (flag, value) in [("--runtime", o.runtime), ("--root", o.root), ("--id", o.id), ("--bundle", o.bundle)]
    where value.isEmpty {
      throw KeeperError("\(flag) is required (\(usage))")
    }
    if o.logMax == 0 { throw KeeperError("--log-max is required (\(usage))") }
    return o
  }
}

/// A failure of the keeper itself (not of the runtime or the guest): one line on keeper.log.
struct KeeperError: Error {
  let message: String
  init(_ message: String) { self.message = message }
}
