/// Sizes as config keys take them: `512MiB`, `1GiB`, `1G`, `1.5G`, `1000000`.
///
/// One-letter units and `KiB`…`TiB` are powers of 1024 (as `docker -m 1g` and `free` mean them);
/// `kB`, `MB`, `GB`, `TB` are powers of 1000 (as Incus and disk vendors mean them).
public enum ByteSize {
  /// Every unit with its multiplier (the one table of them).
  public static let units: [(unit: String, bytes: UInt64)] = [
    ("", 1), ("B", 1),
    ("K", 1 << 10), ("k", 1 << 10), ("KiB", 1 << 10), ("kB", 1000), ("KB", 1000),
    ("M", 1 << 20), ("m", 1 << 20), ("MiB", 1 << 20), ("MB", 1_000_000),
    ("G", 1 << 30), ("g", 1 << 30), ("GiB", 1 << 30), ("GB", 1_000_000_000),
    ("T", 1 << 40), ("t", 1 << 40), ("TiB", 1 << 40), ("TB", 1_000_000_000_000),
  ]

  /// The number of bytes `text` names, nil when it is not a size or does not fit 64 bits.
  public static func parse(_ text: String) -> UInt64? {
    let bytes = Array(text.utf8)
    var i = 0
    var whole: UInt64 = 0
    var digits = 0
    while i < bytes.count, let d = digit(bytes[i]) {
      let (m, o1) = whole.multipliedReportingOverflow(by: 10)
      let (s, o2) = m.addingReportingOverflow(d)
      if o1 || o2 { return nil }
      whole = s
      digits += 1
      i += 1
    }
    guard digits > 0 else { return nil }
    var fraction: [UInt64] = []
    if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
      i += 1
      while i < bytes.count, let d = digit(bytes[i]) {
        fraction.append(d)
        i += 1
      }
      if fraction.isEmpty || fraction.count > 9 { return nil }
    }
    let unit = String(decoding: bytes[i...], as: UTF8.self)
    guard let multiplier = units.first(where: { $0.unit == unit })?.bytes else { return nil }
    let (base, o) = whole.multipliedReportingOverflow(by: multiplier)
    if o { return nil }
    guard !fraction.isEmpty else { return base }
    // The fraction in units of 10^-9, so 1.5G is exact and 0.1K rounds down to 102 bytes.
    var nanos: UInt64 = 0
    for k in 0..<9 { nanos = nanos * 10 + (k < fraction.count ? fraction[k] : 0) }
    let part = multiplier.multipliedFullWidth(by: nanos)
    let extra = UInt64(1_000_000_000).dividingFullWidth(part).quotient
    let (total, o3) = base.addingReportingOverflow(extra)
    return o3 ? nil : total
  }

  /// `n` in the largest binary unit that divides it (`1MiB`, `4KiB`, `1000000`), for defaults and docs.
  public static func format(_ n: UInt64) -> String {
    for (unit, bytes) in [("TiB", UInt64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
    where n >= bytes && n % bytes == 0 {
      return "\(n / bytes)\(unit)"
    }
    return "\(n)"
  }

  private static func digit(_ b: UInt8) -> UInt64? {
    b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") ? UInt64(b - UInt8(ascii: "0")) : nil
  }
}
