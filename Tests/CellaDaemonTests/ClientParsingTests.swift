import CellaAPI
import Glibc
import XCTest

@testable import CellaClient

final class ClientParsingTests: XCTestCase {
  func answer(_ text: String) throws -> HTTPResponse {
    var pair: [Int32] = [-1, -1]
    XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair), 0)
    let bytes = Array(text.utf8)
    XCTAssertEqual(write(pair[1], bytes, bytes.count), bytes.count)
    close(pair[1])
    let reader = SocketReader(fd: pair[0], what: "GET /x")
    defer { reader.close() }
    return try HTTPParsing.response(from: reader, method: "GET")
  }

  func testChunkedAndLengthAndUntilCloseBodies() throws {
    let chunked = try answer(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nTrailer: t\r\n\r\n")
    XCTAssertEqual(chunked.body, Array("hello!".utf8))
    let sized = try answer("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}trailing")
    XCTAssertEqual(sized.status, 201)
    XCTAssertEqual(sized.body, Array("{}".utf8))
    let open = try answer("HTTP/1.0 200 OK\r\n\r\nuntil close")
    XCTAssertEqual(open.body, Array("until close".utf8))
  }

  func testAnErrorStatusWithoutEnvelopeNamesTheStatus() throws {
    let response = try answer("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad")
    XCTAssertEqual(
      APIClient.error(of: response, "GET", "/1.0/guests"),
      APIError(.system, "GET /1.0/guests: the daemon answered HTTP 502 without an error"))
  }

  func testATruncatedAnswerIsASystemError() throws {
    XCTAssertThrowsError(try answer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")) {
      XCTAssertEqual(
        $0 as? APIError, APIError(.system, "GET /x: the daemon's answer is malformed: the connection closed mid-body"))
    }
  }
}
