import XCTest

@testable import CellaVM

final class GuestBootConfigTests: XCTestCase {
  static let full = GuestBootConfig(
    hostname: "web1", command: ["/bin/sh", "-c", "echo \"hi\"\n"], env: ["PATH=/bin", "A=b=c"], cwd: "/srv",
    uid: 1000, gid: 100, nics: [.init(mac: "52:54:00:12:34:09", address: "10.0.0.5/24", gateway: "10.0.0.1")],
    dns: ["10.0.0.1"], hosts: "127.0.0.1 localhost\n", agentPorts: 3)

  func testTheHostsEncodingIsWhatTheAgentParses() throws {
    XCTAssertEqual(try GuestBootConfig.parse(Self.full.encoded()), Self.full)
    let minimal = GuestBootConfig(hostname: "h", command: ["true"])
    XCTAssertEqual(try GuestBootConfig.parse(minimal.encoded()), minimal)
  }

  func testEachBadFieldIsOneLineNamingIt() {
    let cases: [(String, String)] = [
      ("{", "guest.json: not JSON at column"),
      (#"{"command":["x"],"root":{"device":"/dev/vda","fstype":"ext4"}}"#, "guest.json: hostname: missing"),
      (#"{"hostname":"h","command":[],"root":{"device":"/dev/vda","fstype":"ext4"}}"#, "guest.json: command: is empty"),
      (#"{"hostname":"h","command":["x",1],"root":{}}"#, "guest.json: command[1]: 1 is not a string"),
      (#"{"hostname":"h","command":["x"],"env":["NOEQ"],"root":{}}"#, #"guest.json: env[0]: "NOEQ" is not KEY=value"#),
      (#"{"hostname":"h","command":["x"],"cwd":"rel","root":{}}"#, #"guest.json: cwd: "rel" is not absolute"#),
      (#"{"hostname":"h","command":["x"],"user":"root","root":{}}"#, #"guest.json: user: "root" is not UID:GID"#),
      (#"{"hostname":"h","command":["x"]}"#, "guest.json: root: missing"),
      (#"{"hostname":"h","command":["x"],"root":{"device":"vda","fstype":"ext4"}}"#, "guest.json: root.device:"),
      (
        #"{"hostname":"h","command":["x"],"root":{"device":"/dev/vda","fstype":"ext4"},"nics":[{"mac":"zz","address":"10.0.0.2/24"}]}"#,
        #"guest.json: nics[0].mac: "zz" is not a MAC address"#
      ),
      (
        #"{"hostname":"h","command":["x"],"root":{"device":"/dev/vda","fstype":"ext4"},"nics":[{"mac":"52:54:00:00:00:01","address":"10.0.0.2"}]}"#,
        #"guest.json: nics[0].address: "10.0.0.2" is not A.B.C.D/prefix"#
      ),
      (
        #"{"hostname":"h","command":["x"],"root":{"device":"/dev/vda","fstype":"ext4"},"dns":["dns.example"]}"#,
        #"guest.json: dns[0]: "dns.example" is not an IPv4 address"#
      ),
      (
        #"{"hostname":"h","command":["x"],"root":{"device":"/dev/vda","fstype":"ext4"},"agentPorts":99}"#,
        "guest.json: agentPorts: 99 is not a count of 0…31"
      ),
    ]
    for (json, expected) in cases {
      XCTAssertThrowsError(try GuestBootConfig.parse(Array(json.utf8)), json) { error in
        let message = (error as? VMError)?.message ?? "\(error)"
        XCTAssertTrue(message.hasPrefix(expected), "\(json): \(message)")
        XCTAssertFalse(message.contains("\n"))
      }
    }
  }
}
