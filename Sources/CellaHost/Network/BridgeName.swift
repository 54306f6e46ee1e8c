import CellaNet
import CellaSys

/// The Linux bridge name of a network: `cb-NAME` when it fits the kernel's 15 bytes, else a short form
/// with a hash, so the user's name (up to 63 characters) never meets the kernel's limit.
enum BridgeName {
  static let prefix = "cb-"
  /// How much of a long network name its bridge keeps: `cb-` + 7 + `-` + 4 hex digits is 15 bytes.
  static let keptLength = NetlinkSocket.maximumNameLength - prefix.count - 5

  /// The bridge name for `network`, avoiding every name in `taken` (other networks' bridges and links
  /// that exist already): a long name, or a short one that is taken, gets the 4 hex digits of a hash of
  /// the name and an attempt number, the first attempt whose result is free.
  static func derive(network: String, taken: Set<String>) -> String {
    let plain = prefix + network
    if plain.utf8.count <= NetlinkSocket.maximumNameLength && !taken.contains(plain) { return plain }
    let stem = prefix + String(network.prefix(keptLength))
    for attempt in 0..<UInt32(1 << 16) {
      let candidate = "\(stem)-\(hex4(hash(network, attempt)))"
      if !taken.contains(candidate) { return candidate }
    }
    // 65536 names taken with one stem: unreachable with real numbers of networks.
    preconditionFailure("no free bridge name for network \(network)")
  }

  /// 32-bit FNV-1a of the name's UTF-8 and, after the first attempt, the attempt number: a fixed
  /// function, so a network keeps its bridge name across daemon versions (it is recorded anyway).
  static func hash(_ name: String, _ attempt: UInt32) -> UInt16 {
    var bytes = Array(name.utf8)
    if attempt > 0 { bytes += [0] + Array(String(attempt).utf8) }
    let h = FNV1a.hash32(bytes)
    return UInt16(truncatingIfNeeded: h ^ (h >> 16))
  }

  static func hex4(_ v: UInt16) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 4 - s.count) + s
  }
}
