import CellaSys
import Glibc
import Yams

/// A range of host uids and gids (the same numbers for both) that a guest's user namespace maps
/// 0…count-1 onto.
public struct IDRange: Sendable, Equatable, Encodable {
  /// The host id guest root is.
  public var first: UInt32
  public var count: UInt32

  public init(first: UInt32, count: UInt32) {
    self.first = first
    self.count = count
  }

  /// One past the last host id.
  public var end: UInt64 { UInt64(first) + UInt64(count) }

  func overlaps(_ other: IDRange) -> Bool { UInt64(first) < other.end && UInt64(other.first) < end }
}

/// Hands out host id ranges to `security.userns` guests, like vserver's context ids: each guest its
/// own range, recorded in `uidmap.yaml` before the guest uses it and freed when the guest is deleted.
/// Allocation holds `uidmap.lock`, so concurrent allocations (threads or processes) never share one.
public struct UidAllocator: Sendable {
  /// Where ranges start unless configured otherwise: above every uid a distribution hands out.
  public static let defaultFirst: UInt32 = 1_000_000
  /// Ids per guest: the 16-bit uid space a distribution expects to have.
  public static let defaultSize: UInt32 = 65_536

  public let layout: StoreLayout
  /// The first host id of the first range.
  public let first: UInt32
  /// Ids per range.
  public let size: UInt32

  public init(layout: StoreLayout, first: UInt32 = defaultFirst, size: UInt32 = defaultSize) {
    self.layout = layout
    self.first = first
    self.size = max(size, 1)
  }

  /// The range of `guest`, allocating and recording one when it has none: `preferred` when it is free
  /// (a guest copied from another store keeps the ids its files have), else the first free one.
  public func allocate(for guest: String, preferring preferred: IDRange? = nil) throws(HostError) -> IDRange {
    try Names.check(guest, as: "guest")
    return try FileLock.withLock(layout.uidMapLock) { () throws(HostError) -> IDRange in
      var ranges = try readRanges()
      if let known = ranges[guest] { return known }
      let taken = ranges.values.sorted { $0.first < $1.first }
      if let preferred, preferred.count == size, preferred.first >= first,
        UInt64(preferred.first) + UInt64(size) < UInt64(UInt32.max), !taken.contains(where: { $0.overlaps(preferred) })
      {
        ranges[guest] = preferred
        try writeRanges(ranges)
        return preferred
      }
      var candidate = UInt64(first)
      while true {
        let range = IDRange(first: UInt32(truncatingIfNeeded: candidate), count: size)
        // The last id (4294967295) is the kernel's "no id": a range may not reach it.
        guard candidate + UInt64(size) < UInt64(UInt32.max) else {
          throw HostError(.system, "\(layout.uidMap): no free range of \(size) host ids left for guest \(guest)")
        }
        if let clash = taken.first(where: { $0.overlaps(range) }) {
          candidate = max(candidate + UInt64(size), clash.end)
          continue
        }
        ranges[guest] = range
        try writeRanges(ranges)
        return range
      }
    }
  }

  /// The recorded range of `guest`, if any.
  public func range(of guest: String) throws(HostError) -> IDRange? {
    try FileLock.withLock(layout.uidMapLock) { () throws(HostError) -> IDRange? in try readRanges()[guest] }
  }

  /// Every recorded range by guest.
  public func all() throws(HostError) -> [String: IDRange] {
    try FileLock.withLock(layout.uidMapLock) { () throws(HostError) -> [String: IDRange] in try readRanges() }
  }

  /// Forgets the range of `guest` (at delete); no error when it had none.
  public func free(_ guest: String) throws(HostError) {
    try FileLock.withLock(layout.uidMapLock) { () throws(HostError) in
      var ranges = try readRanges()
      guard ranges.removeValue(forKey: guest) != nil else { return }
      try writeRanges(ranges)
    }
  }

  private struct File: Encodable {
    var ranges: [String: IDRange]
  }

  private func readRanges() throws(HostError) -> [String: IDRange] {
    guard FileIO.exists(layout.uidMap) else { return [:] }
    let doc = try YAMLDocument.read(layout.uidMap)
    try doc.refuseUnknown(["ranges"])
    guard let node = doc.field("ranges") else { return [:] }
    guard let map = node.mapping else { throw doc.error(node, "ranges", "expected a mapping of guests to ranges") }
    var out: [String: IDRange] = [:]
    for (k, v) in map {
      guard let guest = k.scalar?.string, (try? Names.check(guest, as: "guest")) != nil else {
        throw doc.error(k, "ranges", "a key is not a guest name")
      }
      guard let fields = v.mapping, Set(fields.keys.compactMap(\.scalar?.string)) == ["first", "count"],
        let f = fields["first"]?.scalar.flatMap({ UInt32($0.string) }),
        let c = fields["count"]?.scalar.flatMap({ UInt32($0.string) }), c > 0
      else { throw doc.error(v, "ranges.\(guest)", "expected first and count, both numbers") }
      out[guest] = IDRange(first: f, count: c)
    }
    return out
  }

  private func writeRanges(_ ranges: [String: IDRange]) throws(HostError) {
    try YAMLDocument.write(try YAMLDocument.encode(File(ranges: ranges), path: layout.uidMap), to: layout.uidMap)
  }
}
