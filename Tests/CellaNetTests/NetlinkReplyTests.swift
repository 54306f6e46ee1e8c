import CellaSys
import Glibc
import XCTest

@testable import CellaNet

final class NetlinkReplyTests: XCTestCase {
  /// An NLMSG_ERROR for request `sequence` with errno `code`, capped, with the kernel's `text`.
  private func errorReply(sequence: UInt32, code: Int32, text: String?) -> [UInt8] {
    var payload = NetlinkBytes.native(-code) + [UInt8](repeating: 0, count: 16)
    payload.replaceSubrange(4..<8, with: NetlinkBytes.native(UInt32(60)))
    var flags = Netlink.Flag.capped
    if let text {
      flags |= Netlink.Flag.ackTLVs
      payload += NetlinkAttribute.string(Netlink.errorAttributeMessage, text).encoded
    }
    return NetlinkBytes.native(UInt32(16 + payload.count)) + NetlinkBytes.native(Netlink.Message.error)
      + NetlinkBytes.native(flags) + NetlinkBytes.native(sequence) + NetlinkBytes.native(UInt32(0)) + payload
  }

  func testErrorAnswerGivesTheErrnoAndTheKernelsReason() throws {
    let replies = NetlinkReply.split(errorReply(sequence: 3, code: EEXIST, text: "Device exists"))
    XCTAssertEqual(replies.count, 1)
    let answer = try XCTUnwrap(replies[0].errorAnswer)
    XCTAssertEqual(answer.code, EEXIST)
    XCTAssertEqual(answer.text, "Device exists")
    let error = NetError("create bridge ctq0", errno: answer.code, kernelText: answer.text)
    XCTAssertEqual(error.kind, .alreadyExists)
    XCTAssertEqual(error.message, "create bridge ctq0: file exists (Device exists)")
  }

  func testAcknowledgementIsErrorZeroWithoutText() throws {
    let answer = try XCTUnwrap(NetlinkReply.split(errorReply(sequence: 1, code: 0, text: nil))[0].errorAnswer)
    XCTAssertEqual(answer.code, 0)
    XCTAssertNil(answer.text)
    XCTAssertEqual(NetError("delete link ctq0", errno: ENODEV, kernelText: nil).kind, .notFound)
  }

  func testLinkMessageGivesNameIndexStateMTUMACMasterAndKind() throws {
    let attributes: [NetlinkAttribute] = [
      .string(Netlink.LinkAttribute.name, "ctv0"), .uint32(Netlink.LinkAttribute.mtu, 1500),
      .uint32(Netlink.LinkAttribute.master, 7), NetlinkAttribute(Netlink.LinkAttribute.address, [2, 0, 0, 0, 0, 5]),
      .nested(Netlink.LinkAttribute.linkInfo, [.string(Netlink.LinkAttribute.infoKind, "veth")]),
    ]
    let request = NetlinkRequest(
      type: Netlink.Message.newLink, flags: 0, header: NetlinkHeader.link(index: 12, flags: 0x1043),
      attributes: attributes, step: "")
    let link = try XCTUnwrap(LinkInfo(try XCTUnwrap(NetlinkReply.split(request.encoded(sequence: 1)).first)))
    XCTAssertEqual(link.name, "ctv0")
    XCTAssertEqual(link.index, 12)
    XCTAssertTrue(link.isUp)
    XCTAssertEqual(link.mtu, 1500)
    XCTAssertEqual(link.masterIndex, 7)
    XCTAssertEqual(link.mac, MACAddress("02:00:00:00:00:05"))
    XCTAssertEqual(link.kind, "veth")
  }

  func testAddressMessageGivesTheLocalAddressPrefixAndBroadcast() throws {
    let request = AddressRequests.change(
      add: true, IPv4Address(10, 1, 2, 3), prefixLength: 24, broadcast: IPv4Address(10, 1, 2, 255), index: 5,
      link: "x")
    let address = try XCTUnwrap(AddressInfo(try XCTUnwrap(NetlinkReply.split(request.encoded(sequence: 1)).first)))
    XCTAssertEqual(address.linkIndex, 5)
    XCTAssertEqual(address.address, IPv4Address(10, 1, 2, 3))
    XCTAssertEqual(address.prefixLength, 24)
    XCTAssertEqual(address.broadcast, IPv4Address(10, 1, 2, 255))
  }

  func testSeveralMessagesInOneDatagramSplitInOrder() {
    let two = errorReply(sequence: 1, code: 0, text: nil) + errorReply(sequence: 2, code: ENOENT, text: "x")
    XCTAssertEqual(NetlinkReply.split(two).map(\.sequence), [1, 2])
  }

  func testTruncatedOrGarbageInputNeverTraps() {
    let valid =
      errorReply(sequence: 1, code: EEXIST, text: "Device exists")
      + LinkRequests.createVeth("ctv0", peer: "ctv1", peerNamespace: .fd(3)).encoded(sequence: 2)
    var generator = SystemRandomNumberGenerator()
    var inputs: [[UInt8]] = (0...valid.count).map { Array(valid.prefix($0)) }
    // Lengths that lie: zero, too small, past the end, and an attribute of length zero.
    inputs += [
      hex("00000000 0200 0000 01000000 00000000"), hex("0f000000 0200 0000 01000000 00000000"),
      hex("ffffffff 0200 0000 01000000 00000000 ffffffff"),
      hex("24000000 1000 0000 01000000 00000000", "00000000 00000000 00000000 00000000 00000300"),
    ]
    for _ in 0..<2000 {
      var bytes = valid
      for _ in 0..<4 {
        bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
      }
      inputs.append(bytes)
      inputs.append(
        (0..<Int.random(in: 0..<96, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
    for input in inputs {
      for reply in NetlinkReply.split(input) {
        _ = reply.errorAnswer
        _ = LinkInfo(reply)
        _ = AddressInfo(reply)
        _ = NetlinkAttributes.parse(reply.payload[...])
        _ = NetlinkAttributes.parse(reply.payload.dropFirst(16))
      }
    }
  }

  func testAddressTextParsesStrictly() {
    XCTAssertEqual(IPv4Address("10.0.0.1"), IPv4Address(10, 0, 0, 1))
    XCTAssertEqual(IPv4Address(10, 250, 3, 9).description, "10.250.3.9")
    for bad in ["", "10.0.0", "10.0.0.256", "10.0.0.01", "10..0.1", "1.2.3.4.5", "a.b.c.d", " 1.2.3.4", "+1.2.3.4"] {
      XCTAssertNil(IPv4Address(bad), bad)
    }
    XCTAssertEqual(MACAddress("02:AB:cd:00:00:0f")?.description, "02:ab:cd:00:00:0f")
    XCTAssertEqual(MACAddress("03:00:00:00:00:00")?.isMulticast, true)
    for bad in ["", "02:00:00:00:00", "02:00:00:00:00:0g", "2:00:00:00:00:00", "02-00-00-00-00-00"] {
      XCTAssertNil(MACAddress(bad), bad)
    }
  }
}
