import CellaAPI
import CellaOCI
import Foundation
import XCTest

@testable import CellaHost

/// The OCI spec of a container guest, checked with the runtime's own validator.
final class GuestSpecTests: XCTestCase {
  private var dir: TestDir!
  private var bundle: String { dir.path + "/bundle" }
  private var image: String { dir.path + "/image" }

  // XCTest keeps every test case object to the end of the run: the directory goes here, not at deinit.
  override func tearDown() {
    dir = nil
  }

  override func setUpWithError() throws {
    dir = try TestDir()
    for d in [bundle, dir.path + "/rootfs", image + "/etc", dir.path + "/data"] {
      try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    }
    try "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n"
      .write(toFile: image + "/etc/passwd", atomically: true, encoding: .utf8)
    try "root:x:0:\nwww:x:33:\nadm:x:4:www,other\n".write(
      toFile: image + "/etc/group", atomically: true, encoding: .utf8)
  }

  private let busybox = ImageProcess(cmd: ["/sbin/init"], env: ["PATH=/bin:/sbin", "LANG=C"], stopSignal: "USR2")

  private func input(
    _ process: ImageProcess? = nil, command: [String]? = nil, config: [String: String] = [:], idRange: IDRange? = nil
  ) throws -> GuestSpec.Input {
    GuestSpec.Input(
      name: "web", process: process ?? busybox, command: command, config: try EffectiveConfig(config),
      rootfs: "../rootfs",
      lookupRoot: image, cgroupsPath: "/cella-t/web", idRange: idRange)
  }

  private func spec(_ i: GuestSpec.Input) throws -> Spec {
    let bytes = try GuestSpec.json(i)
    let s = try SpecLoader.decode(bytes)
    try SpecValidator(bundle: bundle, hostHasPath: { FileManager.default.fileExists(atPath: $0) }).validate(s)
    return s
  }

  func testBusyboxGuestRunsTheImageCommandOnATerminal() throws {
    let s = try spec(try input())
    XCTAssertEqual(s.process?.terminal, true)
    XCTAssertEqual(s.process?.args, ["/sbin/init"])
    XCTAssertEqual(s.process?.env, ["PATH=/bin:/sbin", "LANG=C", "TERM=xterm"])
    XCTAssertEqual(s.process?.cwd, "/")
    XCTAssertEqual(s.process?.user, User(uid: 0, gid: 0))
    XCTAssertEqual(s.process?.noNewPrivileges, false)
    XCTAssertNil(s.process?.rlimits)
    XCTAssertEqual(s.hostname, "web")
    XCTAssertEqual(s.root, Root(path: "../rootfs", readonly: false))
    XCTAssertEqual(s.linux?.cgroupsPath, "/cella-t/web")
    XCTAssertEqual(Set(s.linux?.namespaces?.map(\.type) ?? []), ["pid", "mount", "ipc", "uts", "network", "cgroup"])
    XCTAssertTrue(s.process?.capabilities?.bounding?.contains("CAP_SYS_BOOT") ?? false)
    XCTAssertEqual(s.process?.capabilities?.effective, GuestSpec.capabilities)
    XCTAssertEqual(
      s.mounts?.map(\.destination), ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"])
    XCTAssertEqual(s.linux?.resources?.devices, [LinuxDeviceCgroup(allow: false, access: "rwm")])
    XCTAssertNil(s.linux?.resources?.memory)
    XCTAssertTrue(s.linux?.seccomp?.syscalls?.contains { $0.names == ["reboot"] } ?? false)
  }

  func testCommandOverrideAndEntrypointPlusCmd() throws {
    XCTAssertEqual(try spec(try input(command: ["/bin/sh", "-l"])).process?.args, ["/bin/sh", "-l"])
    let p = ImageProcess(entrypoint: ["/docker-entrypoint.sh"], cmd: ["nginx", "-g", "daemon off;"], workingDir: "srv")
    let s = try spec(try input(p))
    XCTAssertEqual(s.process?.args, ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"])
    XCTAssertEqual(s.process?.cwd, "/srv")
    XCTAssertEqual(s.process?.env, [DefaultSpec.defaultPath, "TERM=xterm"])
  }

  func testMissingCommandIsRefused() throws {
    XCTAssertThrowsError(try GuestSpec.make(try input(ImageProcess(env: ["A=1"])))) {
      XCTAssertEqual(($0 as? HostError)?.kind, .invalidArgument)
      XCTAssertEqual(
        ($0 as? HostError)?.message, "guest \"web\": no command: the image has no Entrypoint or Cmd and none was given")
    }
  }

  func testEnvironmentKeysOverrideTheImage() throws {
    let s = try spec(
      try input(config: ["environment.LANG": "C.UTF-8", "environment.APP": "1", "environment.TERM": "vt100"]))
    XCTAssertEqual(s.process?.env, ["PATH=/bin:/sbin", "LANG=C.UTF-8", "APP=1", "TERM=vt100"])
  }

  func testLimitsBecomeResources() throws {
    let s = try spec(
      try input(config: [
        "limits.memory": "256MiB", "limits.cpu": "1.5", "limits.cpu.weight": "100", "limits.pids": "64",
      ]))
    let r = s.linux?.resources
    XCTAssertEqual(r?.memory?.limit, 256 << 20)
    XCTAssertEqual(r?.cpu?.quota, 150_000)
    XCTAssertEqual(r?.cpu?.period, 100_000)
    XCTAssertEqual(r?.cpu?.shares, ConfigValues.cpuShares(weight: 100))
    XCTAssertEqual(r?.pids?.limit, 64)
  }

  func testDisksBecomeBindMounts() throws {
    let data = dir.path + "/data"
    let s = try spec(
      try input(config: [
        "disk.data.source": data, "disk.data.path": "/srv/data", "disk.ro.source": data, "disk.ro.path": "/srv/ro",
        "disk.ro.readonly": "true",
      ]))
    let binds = s.mounts?.filter(\.isBind)
    XCTAssertEqual(
      binds,
      [
        Mount(destination: "/srv/data", type: "bind", source: data, options: ["rbind", "rw"]),
        Mount(destination: "/srv/ro", type: "bind", source: data, options: ["rbind", "ro"]),
      ])
    // The source is checked again at each start.
    let i = try input(config: ["disk.data.source": data, "disk.data.path": "/srv/data"])
    try FileManager.default.removeItem(atPath: data)
    XCTAssertThrowsError(try GuestSpec.make(i)) {
      XCTAssertEqual(
        ($0 as? HostError)?.message, "guest \"web\": disk.data.source: \"\(data)\": no such file or directory")
    }
  }

  func testStrictProfileIsStricterThanDefault() throws {
    let def = try spec(try input()).linux?.seccomp
    let strict = try spec(try input(config: ["security.profile": "strict"])).linux?.seccomp
    func allowed(_ s: LinuxSeccomp?) -> Set<String> {
      Set((s?.syscalls ?? []).filter { $0.action == "SCMP_ACT_ALLOW" && ($0.args ?? []).isEmpty }.flatMap(\.names))
    }
    XCTAssertNotEqual(def, strict)
    XCTAssertTrue(allowed(strict).isSubset(of: allowed(def)))
    for name in ["chown", "mknod", "sethostname", "personality"] {
      XCTAssertTrue(allowed(def).union((def?.syscalls ?? []).flatMap(\.names)).contains(name), name)
      XCTAssertFalse((strict?.syscalls ?? []).flatMap(\.names).contains(name), name)
    }
    for name in ["keyctl", "ptrace", "bpf", "perf_event_open", "userfaultfd"] {
      XCTAssertFalse(allowed(def).contains(name), name)
      XCTAssertFalse(allowed(strict).contains(name), name)
    }
    XCTAssertTrue(allowed(strict).contains("reboot"))
  }

  func testAProfileFileIsUsedAsItIs() throws {
    let path = dir.path + "/p.json"
    try #"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}]}"#
      .write(toFile: path, atomically: true, encoding: .utf8)
    let s = try spec(try input(config: ["security.profile": path]))
    XCTAssertEqual(
      s.linux?.seccomp,
      LinuxSeccomp(
        defaultAction: "SCMP_ACT_ALLOW", syscalls: [LinuxSyscall(names: ["keyctl"], action: "SCMP_ACT_ERRNO")]))
  }

  func testUsersResolveThroughTheImage() throws {
    func user(_ u: String) throws -> User? { try spec(try input(ImageProcess(cmd: ["x"], user: u))).process?.user }
    XCTAssertEqual(try user("1000"), User(uid: 1000, gid: 0))
    XCTAssertEqual(try user("1000:1000"), User(uid: 1000, gid: 1000))
    XCTAssertEqual(try user("33"), User(uid: 33, gid: 33, additionalGids: [4]))
    XCTAssertEqual(try user("www"), User(uid: 33, gid: 33, additionalGids: [4]))
    XCTAssertEqual(try user("www:adm"), User(uid: 33, gid: 4))
    XCTAssertThrowsError(try user("nobody")) {
      XCTAssertEqual(
        ($0 as? HostError)?.message,
        "guest \"web\": image user \"nobody\": no user \"nobody\" in the image's /etc/passwd")
    }
    XCTAssertThrowsError(try user("www:wheel")) {
      XCTAssertEqual(
        ($0 as? HostError)?.message,
        "guest \"web\": image user \"www:wheel\": no group \"wheel\" in the image's /etc/group")
    }
  }

  func testUserLookupStaysInsideTheImage() throws {
    // An image whose /etc/passwd points at a host file: resolved inside the image, where it does not exist.
    let host = dir.path + "/host-passwd"
    try "root:x:0:0::/:/bin/sh\n".write(toFile: host, atomically: true, encoding: .utf8)
    try FileManager.default.removeItem(atPath: image + "/etc/passwd")
    try FileManager.default.createSymbolicLink(
      atPath: image + "/etc/passwd", withDestinationPath: "/../../../../../.." + host)
    XCTAssertThrowsError(try GuestSpec.make(try input(ImageProcess(cmd: ["x"], user: "root")))) {
      XCTAssertEqual(
        ($0 as? HostError)?.message,
        "guest \"web\": image user \"root\": /etc/passwd of the image: no such file or directory")
    }
    // Numbers need no file.
    XCTAssertEqual(
      try GuestSpec.make(try input(ImageProcess(cmd: ["x"], user: "5:6"))).process?.user, User(uid: 5, gid: 6))
  }

  func testUsernsMapsRootToTheGuestsRange() throws {
    let s = try spec(try input(config: ["security.userns": "true"], idRange: IDRange(first: 1_000_000, count: 65_536)))
    XCTAssertTrue(s.linux?.namespaces?.contains { $0.type == "user" } ?? false)
    XCTAssertEqual(s.linux?.uidMappings, [IDMapping(containerID: 0, hostID: 1_000_000, size: 65_536)])
    XCTAssertEqual(s.linux?.gidMappings, s.linux?.uidMappings)
    XCTAssertThrowsError(try GuestSpec.make(try input(config: ["security.userns": "true"]))) {
      XCTAssertEqual(($0 as? HostError)?.kind, .internal)
    }
    XCTAssertNil(try spec(try input()).linux?.uidMappings)
  }

  func testHostnameKey() throws {
    XCTAssertEqual(try spec(try input(config: ["hostname": "www.example.org"])).hostname, "www.example.org")
  }

  func testStrictProfileEmbeddedEqualsTheShippedFile() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let shipped = try String(contentsOf: root.appendingPathComponent("Profiles/seccomp/strict.json"), encoding: .utf8)
    XCTAssertEqual(StrictSeccompProfile.json, shipped.hasSuffix("\n") ? String(shipped.dropLast()) : shipped)
  }
}
