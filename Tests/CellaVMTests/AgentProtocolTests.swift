import XCTest

@testable import CellaVM

final class AgentProtocolTests: XCTestCase {
  func testFramesSurviveTheWireEvenOneByteAtATime() throws {
    let frames: [AgentFrame] = [
      .exec(
        AgentExecRequest(
          argv: ["sh", "-c", "x"], env: ["A=1"], cwd: "/tmp", uid: 1, gid: 2, tty: true, rows: 30, cols: 100)),
      .exec(AgentExecRequest(argv: ["true"])), .stdin([1, 2, 3]), .stdout(Array("out".utf8)), .stderr([]), .stdinEOF,
      .resize(rows: 50, cols: 200), .signal(15), .exit(130), .error(status: 127, message: "x: not found"),
    ]
    var decoder = AgentFrameDecoder()
    var got: [AgentFrame] = []
    for byte in frames.flatMap({ $0.encoded() }) {
      decoder.feed([byte])
      while let frame = try decoder.next() { got.append(frame) }
    }
    XCTAssertEqual(got, frames)
    XCTAssertEqual(decoder.pending, 0)
  }

  func testAnOversizedOrUnknownFrameIsRefused() {
    var big = AgentFrameDecoder()
    big.feed([3, 0x7F, 0xFF, 0xFF, 0xFF])
    XCTAssertThrowsError(try big.next())
    var unknown = AgentFrameDecoder()
    unknown.feed([99, 0, 0, 0, 0])
    XCTAssertThrowsError(try unknown.next())
  }

  func testASessionSkipsWhatAnEarlierOneLeftQueued() {
    let nonce = [UInt8](repeating: 7, count: AgentProtocol.nonceSize)
    var sync = AgentSync(pattern: AgentProtocol.ackMagic + nonce)
    let stale = AgentProtocol.ackMagic + [UInt8](repeating: 6, count: AgentProtocol.nonceSize) + [3, 0, 0]
    let answer = AgentProtocol.ackMagic + nonce + [8, 0, 0, 0, 4]
    XCTAssertNil(sync.feed(stale))
    XCTAssertNil(sync.feed(answer.prefix(10)))
    XCTAssertEqual(sync.feed(answer.dropFirst(10)), [8, 0, 0, 0, 4])

    // Megabytes of stale input (ending in a near miss) go by in one piece; the answer split at every offset.
    var skip = AgentSync(pattern: AgentProtocol.ackMagic + nonce)
    let noise = [UInt8](repeating: 0, count: 4 << 20) + AgentProtocol.ackMagic.dropLast()
    XCTAssertNil(skip.feed(noise))
    for cut in 1..<skip.pattern.count {
      var split = AgentSync(pattern: AgentProtocol.ackMagic + nonce)
      XCTAssertNil(split.feed(noise.suffix(64) + answer.prefix(cut)), "cut \(cut)")
      XCTAssertEqual(split.feed(answer.dropFirst(cut)), [8, 0, 0, 0, 4], "cut \(cut)")
    }
    XCTAssertEqual(skip.feed(answer), [8, 0, 0, 0, 4])
  }
}
