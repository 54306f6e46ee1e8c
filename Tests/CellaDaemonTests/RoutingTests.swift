import CellaAPI
import CellaClient
import CellaErrors
import Foundation
import XCTest

final class RoutingTests: XCTestCase {
  var daemon: TestDaemon!

  override func setUpWithError() throws { daemon = try TestDaemon() }
  override func tearDown() { daemon.stop() }

  func testEveryRouteCallsItsOneServiceMethod() throws {
    let table: [(String, String, String?, Int, String)] = [
      ("GET", "/1.0", nil, 200, "daemonInfo()"),
      ("GET", "/1.0/guests", nil, 200, "listGuests()"),
      (
        "POST", "/1.0/guests", #"{"name":"web","image":"bb","config":{"limits.pids":"10"},"start":true}"#, 201,
        "createGuest(web,bb,[\"limits.pids\": \"10\"],true)"
      ),
      ("GET", "/1.0/guests/web", nil, 200, "guestInfo(web)"),
      ("DELETE", "/1.0/guests/web?force=true", nil, 200, "deleteGuest(web,true)"),
      ("DELETE", "/1.0/guests/web", nil, 200, "deleteGuest(web,false)"),
      ("POST", "/1.0/guests/web/start", nil, 200, "startGuest(web)"),
      ("POST", "/1.0/guests/web/stop", #"{"timeout":3,"force":true}"#, 200, "stopGuest(web,3,true)"),
      ("POST", "/1.0/guests/web/stop", nil, 200, "stopGuest(web,nil,false)"),
      ("POST", "/1.0/guests/web/restart", #"{"timeout":5}"#, 200, "restartGuest(web,5)"),
      ("POST", "/1.0/guests/web/kill", #"{"signal":"TERM"}"#, 200, "killGuest(web,TERM)"),
      ("POST", "/1.0/guests/web/kill", nil, 200, "killGuest(web,nil)"),
      ("GET", "/1.0/guests/web/config", nil, 200, "guestConfig(web)"),
      (
        "PATCH", "/1.0/guests/web/config", #"{"set":{"a":"1"},"unset":["b"]}"#, 200,
        "patchGuestConfig(web,[\"a\": \"1\"],[\"b\"])"
      ),
      ("PUT", "/1.0/guests/web/config", #"{"config":{"a":"2"}}"#, 200, "replaceGuestConfig(web,[\"a\": \"2\"])"),
      ("GET", "/1.0/guests/web/logs", nil, 200, "logs(web)"),
      ("POST", "/1.0/guests/web/exec", #"{"command":["true"]}"#, 201, "prepareExec(web,[\"true\"])"),
      ("GET", "/1.0/images", nil, 200, "listImages()"),
      (
        "POST", "/1.0/images/build", #"{"source":"debian","name":"deb","suite":"trixie"}"#, 201,
        "buildImage(debian,deb,trixie)"
      ),
      ("POST", "/1.0/images/import", #"{"file":"/tmp/x.tar","name":"imp"}"#, 201, "importImage(/tmp/x.tar,imp)"),
      ("GET", "/1.0/images/bb", nil, 200, "imageInfo(bb)"),
      ("GET", "/1.0/images/build", nil, 200, "imageInfo(build)"),
      ("DELETE", "/1.0/images/bb", nil, 200, "deleteImage(bb)"),
      ("GET", "/1.0/profiles", nil, 200, "listProfiles()"),
      (
        "POST", "/1.0/profiles", #"{"name":"small","config":{"limits.memory":"64MiB"}}"#, 201,
        "createProfile(small,[\"limits.memory\": \"64MiB\"])"
      ),
      ("GET", "/1.0/profiles/small", nil, 200, "profile(small)"),
      ("PATCH", "/1.0/profiles/small", #"{"unset":["x"]}"#, 200, "patchProfile(small,[:],[\"x\"])"),
      ("PUT", "/1.0/profiles/small", #"{"config":{}}"#, 200, "replaceProfile(small,[:])"),
      ("DELETE", "/1.0/profiles/small", nil, 200, "deleteProfile(small)"),
      // A name with bytes outside a DNS label still reaches the service as one decoded segment.
      ("GET", "/1.0/guests/a%2Fb%20c", nil, 200, "guestInfo(a/b c)"),
    ]
    for (method, path, body, status, call) in table {
      let before = daemon.service.calls.count
      let response = try daemon.client.send(method, path, body.map { Array($0.utf8) })
      XCTAssertEqual(response.status, status, "\(method) \(path): \(String(decoding: response.body, as: UTF8.self))")
      XCTAssertEqual(Array(daemon.service.calls.dropFirst(before)), [call], "\(method) \(path)")
    }
  }

  func testLogsAreTextPlainBytes() throws {
    let response = try daemon.client.call("GET", Endpoints.guest("web", "logs"))
    XCTAssertEqual(response.headers["content-type"], "text/plain; charset=utf-8")
    XCTAssertEqual(response.body, Array("boot ok\n".utf8))
  }

  func testClientDecodesModels() throws {
    let info: GuestInfo = try daemon.client.post(Endpoints.guest("web", "start"), Optional<StopRequest>.none)
    XCTAssertEqual(info, FakeService.guest("web"))
    let list: [GuestSummary] = try daemon.client.get(Endpoints.guests)
    XCTAssertEqual(list.map(\.name), ["web"])
  }

  func testEachErrorKindAnswersItsStatusWithTheEnvelope() throws {
    for kind in ErrorKind.allCases {
      daemon.service.fail("guestInfo", with: APIError(kind, "guest web: \(kind.rawValue)"))
      let response = try daemon.client.send("GET", "/1.0/guests/web")
      XCTAssertEqual(response.status, kind.httpStatus, kind.rawValue)
      let envelope = try JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body))
      XCTAssertEqual(envelope.error, APIError(kind, "guest web: \(kind.rawValue)"))
      XCTAssertThrowsError(try daemon.client.get("/1.0/guests/web", as: GuestInfo.self)) {
        XCTAssertEqual($0 as? APIError, APIError(kind, "guest web: \(kind.rawValue)"))
      }
    }
  }

  func testAnErrorWithoutAKindIsInternal() throws {
    struct Plain: Error {}
    daemon.service.fail("listGuests", with: Plain())
    let response = try daemon.client.send("GET", "/1.0/guests")
    XCTAssertEqual(response.status, 500)
    XCTAssertEqual(try JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body)).error.kind, .internal)
  }

  func testUnknownPathIsNotFound() throws {
    for path in ["/", "/1.0/nothing", "/1.0/guests/web/frobnicate", "/2.0/guests"] {
      let response = try daemon.client.send("GET", path)
      XCTAssertEqual(response.status, 404, path)
      XCTAssertEqual(try JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body)).error.kind, .notFound)
    }
  }

  func testWrongMethodIs405InvalidArgument() throws {
    let response = try daemon.client.send("PUT", "/1.0/guests/web/start")
    XCTAssertEqual(response.status, 405)
    let error = try JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body)).error
    XCTAssertEqual(error.kind, .invalidArgument)
    XCTAssertEqual(error.message, "method PUT not allowed on /1.0/guests/web/start (allowed: POST)")
    XCTAssertTrue(daemon.service.calls.isEmpty)
  }

  func testBadEscapeAndUnknownQueryAreRefused() throws {
    XCTAssertThrowsError(try daemon.client.get("/1.0/guests/a%zz", as: GuestInfo.self)) {
      XCTAssertEqual(($0 as? APIError)?.kind, .invalidArgument)
      XCTAssertEqual(($0 as? APIError)?.message, "path segment \"a%zz\": malformed percent-escape")
    }
    XCTAssertThrowsError(try daemon.client.delete("/1.0/guests/web?forse=true")) {
      XCTAssertEqual(($0 as? APIError)?.message, "unknown query parameter \"forse\"")
    }
    XCTAssertThrowsError(try daemon.client.delete("/1.0/guests/web?force=yes")) {
      XCTAssertEqual(($0 as? APIError)?.message, "query \"force\": expected true or false, not \"yes\"")
    }
    XCTAssertTrue(daemon.service.calls.isEmpty)
  }

  func testABodyThatDoesNotDecodeNamesTheField() throws {
    let cases: [(String, String, String)] = [
      (
        "/1.0/guests", #"{"name":"web","image":"bb","config":{"limits.memory":5}}"#,
        #"request body: field "config": expected a string value for key "limits.memory""#
      ),
      ("/1.0/guests", #"{"image":"bb"}"#, #"request body: field "name" is missing"#),
      (
        "/1.0/guests", #"{"name":"web","image":"bb","command":["sh",3]}"#,
        #"request body: field "command[1]": expected a string value"#
      ),
      (
        "/1.0/guests", #"{"name":"web","image":"bb","start":"yes"}"#,
        #"request body: field "start": expected a boolean value"#
      ),
      ("/1.0/guests", #"{"name":"#, "request body: not valid JSON"),
      ("/1.0/guests", "", "request body: not valid JSON"),
      ("/1.0/guests/web/stop", #"{"timeout":"soon"}"#, #"request body: field "timeout": expected an integer value"#),
    ]
    for (path, body, message) in cases {
      XCTAssertThrowsError(try daemon.client.call("POST", path, Array(body.utf8)), body) {
        XCTAssertEqual($0 as? APIError, APIError(.invalidArgument, message), body)
      }
    }
    XCTAssertTrue(daemon.service.calls.isEmpty)
  }

  func testABodyOverOneMebibyteIs413() throws {
    let big = [UInt8](repeating: UInt8(ascii: " "), count: (1 << 20) + 1)
    let response = try daemon.client.send("POST", "/1.0/guests", big)
    XCTAssertEqual(response.status, 413)
    XCTAssertEqual(
      try JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body)).error.message,
      "request body: larger than 1048576 bytes")
    // Announced as chunked, so only the bytes count.
    let fd = try daemon.connectRaw()
    defer { close(fd) }
    var request = Array("POST /1.0/guests HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
    for _ in 0..<17 {
      request += Array("10000\r\n".utf8) + [UInt8](repeating: 0x20, count: 0x10000) + Array("\r\n".utf8)
    }
    request += Array("0\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    XCTAssertTrue(String(decoding: readAll(fd), as: UTF8.self).hasPrefix("HTTP/1.1 413"))
    XCTAssertTrue(daemon.service.calls.isEmpty)
  }

  func testPipelinedRequestsAreAnsweredOneAtATimeInOrder() throws {
    let fd = try daemon.connectRaw()
    defer { close(fd) }
    let request = Array(
      ("GET /1.0/guests/slow HTTP/1.1\r\nHost: x\r\n\r\n"
        + "GET /1.0/guests/fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    let text = String(decoding: readAll(fd), as: UTF8.self)
    let slow = text.range(of: #""name":"slow""#)
    let fast = text.range(of: #""name":"fast""#)
    XCTAssertNotNil(slow, text)
    XCTAssertNotNil(fast, text)
    if let slow, let fast { XCTAssertLessThan(slow.lowerBound, fast.lowerBound, text) }
    XCTAssertEqual(daemon.service.calls, ["guestInfo(slow)", "guestInfo(fast)"])
  }

}
