/// One message the kernel sent: the header fields and the bytes after the header.
struct NetlinkReply: Equatable, Sendable {
  let type: UInt16
  let flags: UInt16
  let sequence: UInt32
  let payload: [UInt8]

  /// The messages in one datagram, in order; parsing stops at the first one whose length does not fit,
  /// so garbage yields fewer messages, never a trap.
  static func split(_ bytes: [UInt8]) -> [NetlinkReply] {
    var replies: [NetlinkReply] = []
    var offset = 0
    let all = bytes[...]
    while offset + Netlink.headerSize <= bytes.count {
      guard let length = NetlinkBytes.read(UInt32.self, all, at: offset).map(Int.init),
        length >= Netlink.headerSize, length <= bytes.count - offset,
        let type = NetlinkBytes.read(UInt16.self, all, at: offset + 4),
        let flags = NetlinkBytes.read(UInt16.self, all, at: offset + 6),
        let sequence = NetlinkBytes.read(UInt32.self, all, at: offset + 8)
      else { break }
      let payload = Array(bytes[(offset + Netlink.headerSize)..<(offset + length)])
      replies.append(NetlinkReply(type: type, flags: flags, sequence: sequence, payload: payload))
      offset += length + NetlinkBytes.padding(length)
    }
    return replies
  }

  /// For an NLMSG_ERROR: the errno (0 for an acknowledgement) and the kernel's extended-ack text, if
  /// any; nil for any other message or one too short to hold struct nlmsgerr.
  var errorAnswer: (code: Int32, text: String?)? {
    guard type == Netlink.Message.error, let negative = NetlinkBytes.read(Int32.self, payload[...], at: 0) else {
      return nil
    }
    let code = negative == Int32.min ? Int32.max : -negative
    guard flags & Netlink.Flag.ackTLVs != 0,
      let echoedLength = NetlinkBytes.read(UInt32.self, payload[...], at: 4).map(Int.init)
    else { return (code, nil) }
    // The request comes back after the errno: its header only when capped, else all of it.
    let echoed =
      flags & Netlink.Flag.capped != 0 ? Netlink.headerSize : echoedLength + NetlinkBytes.padding(echoedLength)
    let start = 4 + echoed
    guard echoed >= Netlink.headerSize, start <= payload.count else { return (code, nil) }
    let attributes = NetlinkAttributes.parse(payload[start...])
    return (code, attributes[Netlink.errorAttributeMessage].map(NetlinkAttributes.string))
  }
}

/// Parsing of attribute TLVs.
enum NetlinkAttributes {
  /// The attributes in `bytes` by type (the first of each type; the nested and byte-order flag bits
  /// are dropped); parsing stops at the first malformed one.
  static func parse(_ bytes: ArraySlice<UInt8>) -> [UInt16: [UInt8]] {
    var attributes: [UInt16: [UInt8]] = [:]
    var offset = 0
    while offset + Netlink.attributeHeaderSize <= bytes.count {
      guard let length = NetlinkBytes.read(UInt16.self, bytes, at: offset).map(Int.init),
        length >= Netlink.attributeHeaderSize, length <= bytes.count - offset,
        let type = NetlinkBytes.read(UInt16.self, bytes, at: offset + 2)
      else { break }
      let start = bytes.startIndex + offset
      let key = type & 0x3fff
      if attributes[key] == nil {
        attributes[key] = Array(bytes[(start + Netlink.attributeHeaderSize)..<(start + length)])
      }
      offset += length + NetlinkBytes.padding(length)
    }
    return attributes
  }

  /// A string attribute's text, up to its NUL.
  static func string(_ payload: [UInt8]) -> String {
    String(decoding: payload.prefix(while: { $0 != 0 }), as: UTF8.self)
  }

  /// A native-endian 32-bit attribute, or nil when it is too short.
  static func uint32(_ payload: [UInt8]?) -> UInt32? {
    payload.flatMap { NetlinkBytes.read(UInt32.self, $0[...], at: 0) }
  }
}
