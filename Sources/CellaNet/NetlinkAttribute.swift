/// One netlink attribute (struct nlattr and its payload), possibly holding nested attributes.
struct NetlinkAttribute: Equatable, Sendable {
  let type: UInt16
  let payload: [UInt8]

  init(_ type: UInt16, _ payload: [UInt8]) {
    self.type = type
    self.payload = payload
  }

  /// A NUL-terminated string, as the kernel wants names and kinds.
  static func string(_ type: UInt16, _ value: String) -> NetlinkAttribute {
    NetlinkAttribute(type, Array(value.utf8) + [0])
  }

  /// A native-endian 32-bit value.
  static func uint32(_ type: UInt16, _ value: UInt32) -> NetlinkAttribute {
    NetlinkAttribute(type, NetlinkBytes.native(value))
  }

  /// Attributes nested inside this one, after an optional fixed header (VETH_INFO_PEER carries an
  /// ifinfomsg before its own attributes).
  static func nested(_ type: UInt16, header: [UInt8] = [], _ children: [NetlinkAttribute]) -> NetlinkAttribute {
    NetlinkAttribute(type, header + children.flatMap(\.encoded))
  }

  /// nla_len, nla_type, the payload and padding to four bytes.
  var encoded: [UInt8] {
    var bytes = NetlinkBytes.native(UInt16(Netlink.attributeHeaderSize + payload.count))
    bytes += NetlinkBytes.native(type)
    bytes += payload
    bytes += [UInt8](repeating: 0, count: NetlinkBytes.padding(bytes.count))
    return bytes
  }
}

/// Byte helpers shared by the encoder and the parser.
enum NetlinkBytes {
  /// The bytes of `value` in the host's order, which netlink uses for everything but addresses.
  static func native<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
  }

  /// The zero bytes that bring `count` up to a multiple of four.
  static func padding(_ count: Int) -> Int { (Netlink.alignment - count % Netlink.alignment) % Netlink.alignment }

  /// A `T` read at `offset` of `bytes`, or nil when it does not fit.
  static func read<T: FixedWidthInteger>(_ type: T.Type, _ bytes: ArraySlice<UInt8>, at offset: Int) -> T? {
    let start = bytes.startIndex + offset
    guard offset >= 0, start + MemoryLayout<T>.size <= bytes.endIndex else { return nil }
    return bytes[start..<(start + MemoryLayout<T>.size)].withUnsafeBytes { $0.loadUnaligned(as: T.self) }
  }
}
