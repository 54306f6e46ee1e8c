/// Chooses a free private subnet for a new network.
public enum SubnetPicker {
  /// Where automatic subnets come from: RFC 1918's 10.0.0.0/8.
  public static let defaultPool = IPv4Subnet(containing: IPv4Address(10, 0, 0, 0), prefixLength: 8)
  /// The first candidate: high in 10/8, away from the low ranges home and office networks favour.
  public static let defaultStart = IPv4Address(10, 210, 0, 0)
  /// The size of an automatic subnet: 253 guests.
  public static let defaultPrefixLength = 24

  /// The first /`prefixLength` of `pool`, counting from `start` and wrapping around, that overlaps none
  /// of `routes` (default routes, which overlap everything, are ignored) and none of `existing`.
  public static func pick(
    routes: [IPv4Route], existing: [IPv4Subnet], pool: IPv4Subnet = defaultPool, start: IPv4Address = defaultStart,
    prefixLength: Int = defaultPrefixLength
  ) throws(NetError) -> IPv4Subnet {
    precondition(
      prefixLength >= pool.prefixLength && prefixLength <= 32, "candidate prefix /\(prefixLength) outside \(pool)")
    let taken = routes.map(\.destination).filter { $0.prefixLength > 0 } + existing
    let count = UInt64(1) << UInt64(prefixLength - pool.prefixLength)
    let step = UInt64(1) << UInt64(32 - prefixLength)
    let first = pool.contains(start) ? UInt64(start.value - pool.network.value) / step : 0
    for i in 0..<count {
      let offset = ((first + i) % count) * step
      let candidate = IPv4Subnet(
        containing: IPv4Address(pool.network.value + UInt32(offset)), prefixLength: prefixLength)
      if !taken.contains(where: { $0.overlaps(candidate) }) { return candidate }
    }
    throw NetError(
      .invalidState,
      "no free /\(prefixLength) in \(pool): host routes and other networks cover it all; give a subnet explicitly")
  }
}
