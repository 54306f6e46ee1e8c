/// The rtnetlink numbers CellaNet uses (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h,
/// linux/if_addr.h, linux/veth.h), which Swift's Glibc module does not import.
enum Netlink {
  /// NETLINK_ROUTE, the protocol of a netlink socket.
  static let protocolRoute: Int32 = 0
  /// SOL_NETLINK and its options.
  static let solNetlink: Int32 = 270
  static let capAck: Int32 = 10
  static let extAck: Int32 = 11
  /// sizeof(struct nlmsghdr), sizeof(struct nlattr); NLMSG_ALIGNTO and NLA_ALIGNTO.
  static let headerSize = 16
  static let attributeHeaderSize = 4
  static let alignment = 4

  /// nlmsg_type values.
  enum Message {
    static let noop: UInt16 = 1
    static let error: UInt16 = 2
    static let done: UInt16 = 3
    static let overrun: UInt16 = 4
    static let newLink: UInt16 = 16
    static let deleteLink: UInt16 = 17
    static let getLink: UInt16 = 18
    static let newAddress: UInt16 = 20
    static let deleteAddress: UInt16 = 21
    static let getAddress: UInt16 = 22
    static let newRoute: UInt16 = 24
    static let deleteRoute: UInt16 = 25
  }

  /// nlmsg_flags values.
  enum Flag {
    static let request: UInt16 = 0x1
    static let multi: UInt16 = 0x2
    static let ack: UInt16 = 0x4
    static let dumpInterrupted: UInt16 = 0x10
    static let dump: UInt16 = 0x300
    static let exclusive: UInt16 = 0x200
    static let create: UInt16 = 0x400
    /// On an NLMSG_ERROR: the request was not echoed (capped) and extended-ack TLVs follow.
    static let capped: UInt16 = 0x100
    static let ackTLVs: UInt16 = 0x200
  }

  /// NLMSGERR_ATTR_MSG: the kernel's text for a refused request.
  static let errorAttributeMessage: UInt16 = 1

  /// IFLA_* attributes of a link message, and the nested ones of IFLA_LINKINFO and veth.
  enum LinkAttribute {
    static let address: UInt16 = 1
    static let name: UInt16 = 3
    static let mtu: UInt16 = 4
    static let master: UInt16 = 10
    static let linkInfo: UInt16 = 18
    static let netnsPID: UInt16 = 19
    static let netnsFD: UInt16 = 28
    static let infoKind: UInt16 = 1
    static let infoData: UInt16 = 2
    static let vethPeer: UInt16 = 1
  }

  /// IFA_* attributes of an address message.
  enum AddressAttribute {
    static let address: UInt16 = 1
    static let local: UInt16 = 2
    static let broadcast: UInt16 = 4
  }

  /// RTA_* attributes of a route message.
  enum RouteAttribute {
    static let outputInterface: UInt16 = 4
    static let gateway: UInt16 = 5
  }

  /// rtmsg field values: the main table, a route added by an administrator, universe scope, unicast.
  enum Route {
    static let tableMain: UInt8 = 254
    static let protocolBoot: UInt8 = 3
    static let scopeUniverse: UInt8 = 0
    static let typeUnicast: UInt8 = 1
  }

  /// AF_INET, AF_UNSPEC as the one-byte family fields of rtnetlink messages.
  static let familyIPv4: UInt8 = 2
  static let familyUnspecified: UInt8 = 0
  /// IFF_UP in ifi_flags.
  static let interfaceUp: UInt32 = 0x1
}
