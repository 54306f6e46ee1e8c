import Foundation
import Glibc
import XCTest

/// Seccomp profiles that block the runtime's own calls, bad seccomp input, configured devices, and a
/// foreground terminal.
final class MoreSecurityAndDeviceTests: RuntimeTestCase {
  func testProfileBlockingGetcwdMkdirAndChdirDoesNotBreakStart() throws {
    for nnp in [true, false] {
      let b = try env.bundle(["sh", "-c", "echo started"])
      b.editProcess { $0["noNewPrivileges"] = nnp }
      b.editLinux {
        $0["seccomp"] =
          [
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
              [
                "names": ["getcwd", "mkdir", "mkdirat", "chdir", "fchdir", "close_range", "umask"],
                "action": "SCMP_ACT_ERRNO",
              ]
            ],
          ] as [String: Any]
      }
      XCTAssertTrue(env.output(b).contains("started"), "noNewPrivileges \(nnp)")
    }
  }

  func testBadSeccompInputIsRejectedNamingTheFieldAndLeavesNothing() throws {
    let cases: [([String: Any], String)] = [
      (["defaultAction": "SCMP_ACT_BOGUS"], "defaultAction"),
      (["defaultAction": "SCMP_ACT_ALLOW", "syscalls": [["names": ["read"], "action": "SCMP_ACT_NOPE"]]], "action"),
      (
        [
          "defaultAction": "SCMP_ACT_ALLOW",
          "syscalls": [
            ["names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [["index": 6, "value": 1, "op": "SCMP_CMP_EQ"]]]
          ],
        ], "index"
      ),
      (
        [
          "defaultAction": "SCMP_ACT_ALLOW",
          "syscalls": [
            ["names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [["index": 0, "value": 1, "op": "SCMP_CMP_LIKE"]]]
          ],
        ], "op"
      ),
      (
        [
          "defaultAction": "SCMP_ACT_ALLOW",
          "syscalls": [["names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 5]],
        ],
        "errnoRet"
      ),
      (
        ["defaultAction": "SCMP_ACT_ALLOW", "syscalls": [["names": ["read"], "action": "SCMP_ACT_NOTIFY"]]],
        "listenerPath"
      ),
      (["defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PDP11"]], "architectures"),
    ]
    for (profile, field) in cases {
      let b = try env.bundle(["true"])
      b.editLinux { $0["seccomp"] = profile }
      let r = env.run(b, id: env.newID())
      assertOneErrorLine(r, contains: ["linux.seccomp", field])
      assertStateRootEmpty()
    }
  }

  func testConfiguredDeviceIsCreatedWithItsModeAndOwner() throws {
    let b = try env.bundle(["sh", "-c", "ls -ln /dev/cella-full; head -c 1 /dev/cella-full | wc -c"])
    b.editLinux {
      $0["devices"] = [
        ["type": "c", "path": "/dev/cella-full", "major": 1, "minor": 7, "fileMode": 0o640, "uid": 1000, "gid": 5]
      ]
    }
    let out = env.output(b)
    XCTAssertTrue(out.hasPrefix("crw-r-----"), out)
    XCTAssertTrue(out.contains(" 1000 "), out)
    XCTAssertTrue(out.contains("1,   7") || out.contains("1, 7"), out)
  }

  /// podman --privileged sends each host node's whole st_mode (type bits included) as fileMode.
  func testDeviceFileModeWithTypeBitsUsesThePermissionBits() throws {
    let b = try env.bundle(["ls", "-ln", "/dev/cella-zero"])
    b.editLinux {
      $0["devices"] = [["type": "c", "path": "/dev/cella-zero", "major": 1, "minor": 5, "fileMode": 0o20640]]
    }
    let out = env.output(b)
    XCTAssertTrue(out.hasPrefix("crw-r-----"), out)
  }

  /// `run` in the foreground with process.terminal and no console socket proxies the pty through its own
  /// stdio; here the test holds the other end of a pty as the runtime's terminal.
  func testRunWithATerminalProxiesThePtyAndPropagatesTheExitCode() throws {
    let b = try env.bundle(["sh", "-c", "tty; echo through-the-pty; exit 5"])
    b.editProcess { $0["terminal"] = true }
    try b.write()
    let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
    XCTAssertGreaterThanOrEqual(master, 0)
    defer { close(master) }
    var unlock: Int32 = 0
    XCTAssertEqual(ioctl(master, UInt(0x4004_5431), &unlock), 0)  // TIOCSPTLCK
    var number: UInt32 = 0
    XCTAssertEqual(ioctl(master, UInt(0x8004_5430), &number), 0)  // TIOCGPTN
    let slavePath = "/dev/pts/\(number)"
    let id = env.newID()
    let r = env.host(
      "/bin/sh",
      [
        "-c", "exec \"$0\" --root \"$1\" run -b \"$2\" \"$3\" <\"$4\" >\"$4\"", env.runtime, env.stateRoot, b.dir, id,
        slavePath,
      ])
    var collected = ""
    var buf = [UInt8](repeating: 0, count: 4096)
    _ = fcntl(master, F_SETFL, O_NONBLOCK)
    while true {
      let n = read(master, &buf, buf.count)
      if n <= 0 { break }
      collected += String(decoding: buf[0..<n], as: UTF8.self)
    }
    XCTAssertEqual(r.status, 5, "\(r)")
    XCTAssertTrue(collected.contains("/dev/pts/0"), collected)
    XCTAssertTrue(collected.contains("through-the-pty"), collected)
  }
}
