import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// A config without namespaces (runtime-tools' linux_ns_itype) inherits every namespace of the
/// runtime; its mounts are then the host's, and must all go when the container does.
final class NoNamespaceTests: RuntimeTestCase {
  private let kinds = ["pid", "net", "ipc", "uts", "mnt", "cgroup", "user"]

  /// A bundle on a private rootfs copy with no namespaces at all (and so no hostname).
  private func bundleWithoutNamespaces(_ args: [String]) throws -> TestBundle {
    let b = try env.bundle(args)
    b.setRoot(try env.copyRootfs(), readonly: true)
    b.editLinux { $0["namespaces"] = [[String: Any]]() }
    b.config.removeValue(forKey: "hostname")
    return b
  }

  /// Host mount points under `dir` (the leak check's view, narrowed to one rootfs).
  private func mounts(under dir: String) -> [String] {
    env.leakedMounts().filter { $0 == dir || $0.hasPrefix(dir + "/") }
  }

  func testContainerWithoutNamespacesSharesTheRuntimesNamespaces() throws {
    let script = kinds.map { "readlink /proc/self/ns/\($0)" }.joined(separator: "; ")
    let b = try bundleWithoutNamespaces(["sh", "-c", script])
    let id = env.newID()
    let out = env.output(b, id: id)
    let host = kinds.map { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\($0)")) ?? "?" }
    XCTAssertEqual(out.split(separator: "\n").map(String.init), host)
  }

  func testDeleteUndoesTheHostMountsUnderTheRootfs() throws {
    let b = try bundleWithoutNamespaces(["sh", "-c", "ls /proc/self/ns >/dev/null && exec sleep 100"])
    let rootfs = b.config["root"].flatMap { ($0 as? [String: Any])?["path"] as? String } ?? ""
    let id = env.newID()
    XCTAssertGreaterThan(env.startDetached(b, id: id), 0)
    // The container's root and its /proc, /dev, /sys... are mounts in the host's namespace now.
    let during = mounts(under: rootfs)
    XCTAssertTrue(during.contains(rootfs) && during.contains(rootfs + "/proc"), "\(during)")
    // It sees its rootfs, not the host's.
    let exec = env.rt(["exec", id, "cat", "/etc/hostname"])
    XCTAssertEqual(exec.status, 0, "\(exec)")
    XCTAssertEqual(
      exec.stdout, (try? String(contentsOfFile: rootfs + "/etc/hostname", encoding: .utf8)) ?? "<none>")
    let d = env.rt(["delete", "--force", id])
    XCTAssertEqual(d.status, 0, "\(d)")
    XCTAssertEqual(mounts(under: rootfs), [])
  }

  /// `create` SIGKILLed while a prestart hook runs (every mount is made by then), then `delete --force`.
  func testDeleteForceAfterKilledCreateUndoesTheHostMounts() throws {
    let b = try bundleWithoutNamespaces(["sleep", "100"])
    let rootfs = b.config["root"].flatMap { ($0 as? [String: Any])?["path"] as? String } ?? ""
    let marker = env.tmp + "/prestart-ran"
    b.addHook("prestart", path: "/bin/sh", args: ["sh", "-c", "touch \(marker); exec sleep 3"])
    try b.write()
    let id = env.newID("killed")
    let p = try Spawner.spawn(
      env.runtime, ["--root", env.stateRoot, "create", "-b", b.dir, id], outputDirectory: env.tmp)
    let deadline = Date().addingTimeInterval(10)
    while !FileManager.default.fileExists(atPath: marker) && Date() < deadline { usleep(10_000) }
    XCTAssertTrue(FileManager.default.fileExists(atPath: marker), "the prestart hook never ran")
    XCTAssertFalse(mounts(under: rootfs).isEmpty, "create made no host mounts before the hook")
    kill(p.pid, SIGKILL)
    _ = p.wait()
    let d = env.rt(["delete", "--force", id])
    XCTAssertEqual(d.status, 0, "\(d)")
    XCTAssertEqual(mounts(under: rootfs), [])
    XCTAssertEqual(env.stateEntries(), [])
  }

  /// A create that fails after its mounts (a createRuntime hook fails) takes them back.
  func testFailedCreateUndoesTheHostMounts() throws {
    let b = try bundleWithoutNamespaces(["true"])
    let rootfs = b.config["root"].flatMap { ($0 as? [String: Any])?["path"] as? String } ?? ""
    b.addHook("createRuntime", path: "/bin/false")
    let r = env.create(b, id: env.newID())
    XCTAssertNotEqual(r.status, 0, "\(r)")
    XCTAssertTrue(r.stderr.contains("createRuntime"), "failed before the hook: \(r)")
    XCTAssertEqual(mounts(under: rootfs), [])
    XCTAssertEqual(env.stateEntries(), [])
  }

  /// A bind of a shared host mount joins its source's peer group: what init then mounts under the
  /// bind must not show up at the source on the host.
  func testMountsUnderABindOfASharedSourceStayOffTheHost() throws {
    let shared = env.tmp + "/shared"
    try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
    XCTAssertEqual(env.host("/bin/mount", ["-t", "tmpfs", "tmpfs", shared]).status, 0)
    addTeardownBlock { _ = umount2(shared, Int32(MNT_DETACH)) }
    XCTAssertEqual(env.host("/bin/mount", ["--make-shared", shared]).status, 0)
    try FileManager.default.createDirectory(atPath: shared + "/src", withIntermediateDirectories: true)
    let b = try bundleWithoutNamespaces(["sleep", "100"])
    b.addMount("/data", type: "bind", source: shared + "/src", options: ["rbind"])
    b.addMount("/data/sub", type: "tmpfs", source: "tmpfs", options: ["mode=755"])
    let rootfs = b.config["root"].flatMap { ($0 as? [String: Any])?["path"] as? String } ?? ""
    let id = env.newID()
    XCTAssertGreaterThan(env.startDetached(b, id: id), 0)
    XCTAssertTrue(mounts(under: rootfs).contains(rootfs + "/data/sub"), "\(mounts(under: rootfs))")
    XCTAssertEqual(mounts(under: shared), [shared])
    let d = env.rt(["delete", "--force", id])
    XCTAssertEqual(d.status, 0, "\(d)")
    XCTAssertEqual(mounts(under: shared), [shared])
  }

  /// A root.path that is a symlink is resolved once: the bind goes on its target and delete finds it.
  func testSymlinkedRootPathIsBoundAtItsTarget() throws {
    let b = try bundleWithoutNamespaces(["cat", "/etc/hostname"])
    let rootfs = b.config["root"].flatMap { ($0 as? [String: Any])?["path"] as? String } ?? ""
    let link = env.tmp + "/rootfs-link"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: rootfs)
    b.setRoot(link, readonly: true)
    let r = env.run(b, id: env.newID())
    XCTAssertEqual(r.status, 0, "\(r)")
    XCTAssertEqual(
      r.stdout, (try? String(contentsOfFile: rootfs + "/etc/hostname", encoding: .utf8)) ?? "<none>")
    XCTAssertEqual(mounts(under: rootfs), [])
    XCTAssertEqual(env.stateEntries(), [])
  }

  func testNewUserNamespaceWithoutMountNamespaceIsRefused() throws {
    let b = try bundleWithoutNamespaces(["true"])
    b.addNamespace("user")
    b.editLinux {
      $0["uidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
      $0["gidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
    }
    let r = env.run(b, id: env.newID())
    assertOneErrorLine(r, contains: ["linux.namespaces", "mount namespace"])
    XCTAssertEqual(env.stateEntries(), [])
  }
}
