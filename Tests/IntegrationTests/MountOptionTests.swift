import Foundation
import XCTest

/// Every mount option has its effect, seen from inside the container, or is refused by name.
final class MountOptionTests: RuntimeTestCase {
  /// A host directory `tree` with a tmpfs mounted at `tree/sub` (unmounted at teardown): a recursive
  /// bind of `tree` must reach the submount too.
  func treeWithSubmount(_ name: String) throws -> String {
    let tree = env.tmp + "/" + name
    try FileManager.default.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
    let r = env.host("/bin/mount", ["-t", "tmpfs", "-o", "mode=755", "tmpfs", tree + "/sub"])
    XCTAssertEqual(r.status, 0, "\(r)")
    addTeardownBlock { _ = umount2(tree + "/sub", Int32(MNT_DETACH)) }
    return tree
  }

  /// The per-mount options (mountinfo field 6) of each mount point in `points`, from `mountinfo`.
  func perMountOptions(_ mountinfo: String, _ points: [String]) -> [String: Set<String>] {
    var found: [String: Set<String>] = [:]
    for line in mountinfo.split(separator: "\n") {
      let fields = line.split(separator: " ").map(String.init)
      if fields.count > 5, points.contains(fields[4]) {
        found[fields[4]] = Set(fields[5].split(separator: ",").map(String.init))
      }
    }
    return found
  }

  /// runtime-tools' `mounts` program (and runc, crun) pass mode=755 on a bind: it runs, with a warning.
  func testFilesystemDataOnABindRunsWithAWarning() throws {
    let b = try env.bundle(["ls", "/data"])
    b.addMount("/data", type: "bind", source: env.tmp, options: ["rbind", "mode=755"])
    let r = env.run(b, id: env.newID())
    XCTAssertEqual(r.status, 0, "\(r)")
    XCTAssertTrue(r.stderr.contains("mode=755 ignored"), r.stderr)
  }

  func testRroMakesTheBindAndItsSubmountsReadOnly() throws {
    let tree = try treeWithSubmount("rro")
    let b = try env.bundle([
      "sh", "-c",
      "touch /data/top || echo top refused; touch /data/sub/s || echo sub refused; cat /proc/self/mountinfo",
    ])
    b.addMount("/data", type: "bind", source: tree, options: ["rbind", "rro"])
    let r = env.run(b, id: env.newID())
    XCTAssertEqual(r.status, 0, "\(r)")
    XCTAssertTrue(r.stdout.hasPrefix("top refused\nsub refused\n"), r.stdout)
    let options = perMountOptions(r.stdout, ["/data", "/data/sub"])
    XCTAssertEqual(options["/data"]?.contains("ro"), true, "\(options)")
    XCTAssertEqual(options["/data/sub"]?.contains("ro"), true, "\(options)")
    XCTAssertFalse(FileManager.default.fileExists(atPath: tree + "/top"))
    XCTAssertFalse(FileManager.default.fileExists(atPath: tree + "/sub/s"))
  }

  func testRnosuidIgnoresTheSetuidBitOnSubmounts() throws {
    let tree = try treeWithSubmount("rnosuid")
    let program = env.tmp + "/euid.c"
    try
      "#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf(\"euid=%d\\n\", (int)geteuid()); return 0; }\n"
      .write(toFile: program, atomically: true, encoding: .utf8)
    let cc = env.host("/usr/bin/cc", ["-static", "-o", tree + "/sub/euid", program])
    guard cc.status == 0 else { throw XCTSkip("no static C compiler: \(cc)") }
    XCTAssertEqual(chmod(tree + "/sub/euid", 0o4755), 0)
    let b = try env.bundle(["/data/sub/euid"])
    b.editProcess {
      $0["user"] = ["uid": 1000, "gid": 1000]
      $0["noNewPrivileges"] = false
    }
    b.addMount("/data", type: "bind", source: tree, options: ["rbind", "rnosuid"])
    XCTAssertEqual(env.output(b), "euid=1000\n")

    // The control: without rnosuid the same binary does run as root.
    let control = try env.bundle(["/data/sub/euid"])
    control.editProcess {
      $0["user"] = ["uid": 1000, "gid": 1000]
      $0["noNewPrivileges"] = false
    }
    control.addMount("/data", type: "bind", source: tree, options: ["rbind"])
    XCTAssertEqual(env.output(control), "euid=0\n")
  }

  func testRnodevRefusesDeviceNodesOnSubmounts() throws {
    let tree = try treeWithSubmount("rnodev")
    XCTAssertEqual(mknod(tree + "/sub/null", S_IFCHR | 0o666, dev_t((1 << 8) | 3)), 0)  // 1:3, /dev/null
    let b = try env.bundle(["sh", "-c", "echo x > /data/sub/null && echo opened"])
    b.addMount("/data", type: "bind", source: tree, options: ["rbind", "rnodev"])
    let r = env.run(b, id: env.newID())
    XCTAssertNotEqual(r.status, 0, "\(r)")
    XCTAssertEqual(r.stdout, "")
    XCTAssertTrue(r.stderr.contains("Permission denied"), r.stderr)
  }

  func testRnoexecRefusesExecOnSubmounts() throws {
    let tree = try treeWithSubmount("rnoexec")
    XCTAssertEqual(env.host("/bin/cp", [env.sharedRootfs + "/bin/busybox", tree + "/sub/busybox"]).status, 0)
    let b = try env.bundle(["sh", "-c", "/data/sub/busybox true; echo status $?"])
    b.addMount("/data", type: "bind", source: tree, options: ["rbind", "rnoexec"])
    let r = env.run(b, id: env.newID())
    XCTAssertEqual(r.stdout, "status 126\n", "\(r)")
    XCTAssertTrue(r.stderr.contains("Permission denied"), r.stderr)
  }

  func testRecursiveAtimeModesShowInMountinfo() throws {
    let tree = try treeWithSubmount("ratime")
    let cases: [(option: String, present: Set<String>, absent: Set<String>)] = [
      ("rnoatime", ["noatime"], ["relatime"]),
      ("rstrictatime", [], ["noatime", "relatime"]),
      ("rnorelatime", [], ["noatime", "relatime"]),
      ("rrelatime", ["relatime"], ["noatime"]),
      ("rnodiratime", ["nodiratime"], []),
    ]
    for c in cases {
      let b = try env.bundle(["cat", "/proc/self/mountinfo"])
      // Start from noatime so that every mode shows a change.
      b.addMount("/data", type: "bind", source: tree, options: ["rbind", "rnoatime", c.option])
      let options = perMountOptions(env.output(b), ["/data", "/data/sub"])
      for point in ["/data", "/data/sub"] {
        let seen = options[point] ?? []
        XCTAssertTrue(seen.isSuperset(of: c.present), "\(c.option) \(point): \(seen)")
        XCTAssertTrue(seen.isDisjoint(with: c.absent), "\(c.option) \(point): \(seen)")
      }
    }
  }

  func testAtimeOptionsOfANewMountShowInMountinfo() throws {
    let b = try env.bundle(["cat", "/proc/self/mountinfo"])
    b.addMount("/strict", type: "tmpfs", source: "tmpfs", options: ["norelatime"])
    b.addMount("/rec", type: "tmpfs", source: "tmpfs", options: ["rnoatime", "rro"])
    let options = perMountOptions(env.output(b), ["/strict", "/rec"])
    XCTAssertTrue(options["/strict"]?.isDisjoint(with: ["relatime", "noatime"]) ?? false, "\(options)")
    XCTAssertTrue(options["/rec"]?.isSuperset(of: ["ro", "noatime"]) ?? false, "\(options)")
  }

  func testIdmapShowsOwnershipThroughTheMountsMapping() throws {
    let tree = env.tmp + "/idmap"
    try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
    try "x".write(toFile: tree + "/rootfile", atomically: true, encoding: .utf8)
    XCTAssertEqual(chown(tree + "/rootfile", 0, 0), 0)
    let b = try env.bundle(["stat", "-c", "%u:%g", "/data/rootfile"])
    b.addMount("/data", type: "bind", source: tree, options: ["rbind", "idmap"])
    var mounts = b.config["mounts"] as? [[String: Any]] ?? []
    mounts[mounts.count - 1]["uidMappings"] = [["containerID": 0, "hostID": 1234, "size": 1]]
    mounts[mounts.count - 1]["gidMappings"] = [["containerID": 0, "hostID": 2345, "size": 1]]
    b.config["mounts"] = mounts
    // On-disk ids are read as the mapping's containerID and shown as its hostID.
    XCTAssertEqual(env.output(b), "1234:2345\n")
  }

  func testIdmapWithoutMappingsUsesTheContainersUserNamespace() throws {
    let tree = env.tmp + "/idmap-userns"
    try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
    try "x".write(toFile: tree + "/rootfile", atomically: true, encoding: .utf8)
    let b = try env.bundle(["stat", "-c", "%u:%g", "/data/rootfile"])
    b.addNamespace("user")
    b.editLinux {
      $0["uidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
      $0["gidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
    }
    b.addMount("/data", type: "bind", source: tree, options: ["rbind", "ridmap"])
    // Without the idmapping the host's root would be unmapped in the container: 65534.
    XCTAssertEqual(env.output(b), "0:0\n")
  }

  func testTmpcopyupFillsTheTmpfsWithTheImagesFiles() throws {
    let rootfs = try env.copyRootfs()
    let data = rootfs + "/data"
    try FileManager.default.createDirectory(atPath: data + "/dir", withIntermediateDirectories: true)
    try "top\n".write(toFile: data + "/file", atomically: true, encoding: .utf8)
    try "nested\n".write(toFile: data + "/dir/nested", atomically: true, encoding: .utf8)
    XCTAssertEqual(chmod(data + "/dir/nested", 0o640), 0)
    // A link pointing out of the rootfs is copied as a link, never followed.
    try FileManager.default.createSymbolicLink(atPath: data + "/escape", withDestinationPath: env.tmp)
    let b = try env.bundle([
      "sh", "-c",
      "cat /data/file /data/dir/nested; stat -c %a /data/dir/nested; readlink /data/escape; echo new > /data/new; grep ' /data ' /proc/self/mountinfo | grep -c tmpfs",
    ])
    b.setRoot(rootfs, readonly: true)
    b.addMount("/data", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "mode=755"])
    XCTAssertEqual(env.output(b), "top\nnested\n640\n\(env.tmp)\n1\n")
    XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/new"), "the write reached the image")
  }

  /// podman sends a mount's mappings without the idmap option (it strips it); as in crun they idmap
  /// the bind itself, not its submounts.
  func testMountMappingsWithoutIdmapIdmapTheBindButNotItsSubmounts() throws {
    let tree = try treeWithSubmount("mappings")
    for file in [tree + "/rootfile", tree + "/sub/rootfile"] {
      try "x".write(toFile: file, atomically: true, encoding: .utf8)
      XCTAssertEqual(chown(file, 0, 0), 0)
    }
    let b = try env.bundle(["stat", "-c", "%u:%g", "/data/rootfile", "/data/sub/rootfile"])
    b.addMount("/data", type: "bind", source: tree, options: ["rbind"])
    var mounts = b.config["mounts"] as? [[String: Any]] ?? []
    mounts[mounts.count - 1]["uidMappings"] = [["containerID": 0, "hostID": 1234, "size": 1]]
    mounts[mounts.count - 1]["gidMappings"] = [["containerID": 0, "hostID": 2345, "size": 1]]
    b.config["mounts"] = mounts
    XCTAssertEqual(env.output(b), "1234:2345\n0:0\n")
  }

  /// The idmapped tree is cut in the host's namespace, as a copy of a shared source: what init
  /// mounts under it must not reach that source.
  func testMountsUnderAnIdmappedBindOfASharedSourceStayOffTheHost() throws {
    let shared = env.tmp + "/shared"
    try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
    XCTAssertEqual(env.host("/bin/mount", ["-t", "tmpfs", "tmpfs", shared]).status, 0)
    addTeardownBlock { _ = umount2(shared, Int32(MNT_DETACH)) }
    XCTAssertEqual(env.host("/bin/mount", ["--make-shared", shared]).status, 0)
    // Made here: in the idmapped bind, root's mkdir fails (root is not in the mount's mapping).
    try FileManager.default.createDirectory(atPath: shared + "/src/sub", withIntermediateDirectories: true)
    let b = try env.bundle(["sleep", "100"])
    b.addMount("/data", type: "bind", source: shared + "/src", options: ["rbind", "idmap"])
    var mounts = b.config["mounts"] as? [[String: Any]] ?? []
    mounts[mounts.count - 1]["uidMappings"] = [["containerID": 0, "hostID": 1234, "size": 1]]
    mounts[mounts.count - 1]["gidMappings"] = [["containerID": 0, "hostID": 1234, "size": 1]]
    b.config["mounts"] = mounts
    b.addMount("/data/sub", type: "tmpfs", source: "tmpfs", options: ["mode=755"])
    let id = env.newID()
    XCTAssertGreaterThan(env.startDetached(b, id: id), 0)
    let seen = env.leakedMounts().filter { $0.hasPrefix(shared + "/") }
    XCTAssertEqual(seen, [])
    let d = env.rt(["delete", "--force", id])
    XCTAssertEqual(d.status, 0, "\(d)")
  }

  /// podman adds tmpcopyup to every --tmpfs, read-only ones too: the copy is made before the mount
  /// turns read-only.
  func testTmpcopyupFillsAReadOnlyTmpfs() throws {
    let rootfs = try env.copyRootfs()
    try FileManager.default.createDirectory(atPath: rootfs + "/data", withIntermediateDirectories: true)
    try "top\n".write(toFile: rootfs + "/data/file", atomically: true, encoding: .utf8)
    let b = try env.bundle([
      "sh", "-c", "cat /data/file; touch /data/new 2>/dev/null || echo refused; cat /proc/self/mountinfo",
    ])
    b.setRoot(rootfs, readonly: true)
    b.addMount("/data", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "ro", "mode=755"])
    let r = env.run(b, id: env.newID())
    XCTAssertEqual(r.status, 0, "\(r)")
    XCTAssertTrue(r.stdout.hasPrefix("top\nrefused\n"), r.stdout)
    XCTAssertEqual(perMountOptions(r.stdout, ["/data"])["/data"]?.contains("ro"), true, r.stdout)
  }

  // MARK: - refusals

  /// Adds a mount with `options` and expects create to refuse it naming `mounts[N].options[index]`.
  func assertRefused(
    type: String, source: String, options: [String], index: Int, extra: [String: Any] = [:],
    file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let b = try env.bundle(["true"], file: file, line: line)
    b.addMount("/data", type: type, source: source, options: options)
    var mounts = b.config["mounts"] as? [[String: Any]] ?? []
    let n = mounts.count - 1
    for (key, value) in extra { mounts[n][key] = value }
    b.config["mounts"] = mounts
    let field = index >= 0 ? "mounts[\(n)].options[\(index)]" : "mounts[\(n)]."
    let r = env.create(b, id: env.newID(), file: file, line: line)
    assertOneErrorLine(r, contains: [field] + (index >= 0 ? ["\"\(options[index])\""] : []), file: file, line: line)
    assertStateRootEmpty(file: file, line: line)
  }

  func testBindMountRefusesFilesystemOptions() throws {
    try assertRefused(type: "bind", source: env.tmp, options: ["rbind", "nosiud"], index: 1)
    try assertRefused(type: "bind", source: env.tmp, options: ["bind", "ro", "sync"], index: 2)
    try assertRefused(type: "none", source: env.tmp, options: ["rbind", "lazytime"], index: 1)
  }

  func testUnsupportedExtensionsAndMandAreRefused() throws {
    for option in ["copy-symlink", "src-nofollow", "dest-nofollow", "mand"] {
      try assertRefused(type: "tmpfs", source: "tmpfs", options: ["nosuid", option], index: 1)
    }
  }

  func testKindSpecificOptionsAreRefusedOnOtherKinds() throws {
    try assertRefused(type: "bind", source: env.tmp, options: ["rbind", "tmpcopyup"], index: 1)
    try assertRefused(type: "tmpfs", source: "tmpfs", options: ["idmap"], index: 0)
    let mapping: [[String: Any]] = [["containerID": 0, "hostID": 1234, "size": 1]]
    try assertRefused(
      type: "tmpfs", source: "tmpfs", options: [], index: -1, extra: ["uidMappings": mapping, "gidMappings": mapping])
  }

  func testIdmapWithoutAnyMappingIsRefused() throws {
    try assertRefused(type: "bind", source: env.tmp, options: ["rbind", "idmap"], index: 1)
  }

  func testFeaturesListsTheAppliedRecursiveAndIdmapOptions() throws {
    let r = env.rt(["features"])
    XCTAssertEqual(r.status, 0, "\(r)")
    let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    let options = Set(object?["mountOptions"] as? [String] ?? [])
    XCTAssertTrue(
      options.isSuperset(of: ["rro", "rnosuid", "rnodev", "rnoexec", "ratime", "idmap", "ridmap", "tmpcopyup"]))
    XCTAssertTrue(options.isDisjoint(with: ["mand", "copy-symlink", "src-nofollow", "dest-nofollow"]), "\(options)")
  }
}
