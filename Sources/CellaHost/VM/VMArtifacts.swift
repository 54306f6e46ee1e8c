import CellaSys
import CellaVM
import Glibc

/// The files a store's VM guests boot from, each built once and reused until its input changes: the
/// host's kernel as a vmlinux, the initramfs base with the agent and the kernel's modules, an image's
/// rootfs as an ext4 disk, and a guest's qcow2 overlay on that disk.
///
/// Builds run under one lock per store (they are rare and a second caller wants the first one's result),
/// write to temporary names and rename, and record what they were made from in a stamp next to the
/// result, so a changed input (a new kernel package, agent binary or image) is rebuilt.
public struct VMArtifacts: Sendable {
  public let layout: StoreLayout
  /// Where installed kernels are looked for (`/boot`; tests point it elsewhere).
  public var bootDirectory = "/boot"
  /// Where each kernel's modules live, `<dir>/<version>` (`/lib/modules`).
  public var modulesRoot = "/lib/modules"

  public init(layout: StoreLayout) { self.layout = layout }

  /// An extracted kernel: the vmlinux to boot through its PVH entry and the version its modules go by.
  public struct Kernel: Sendable, Equatable {
    public let vmlinux: String
    public let version: String
    /// `/lib/modules/<version>`.
    public let modulesDir: String

    public init(vmlinux: String, version: String, modulesDir: String) {
      self.vmlinux = vmlinux
      self.version = version
      self.modulesDir = modulesDir
    }
  }

  var lockPath: String { layout.vmCache + "/lock" }

  /// The newest `vmlinuz-<version>` in `bootDirectory` (what linux-image-amd64 installed last).
  public func defaultKernel() throws(HostError) -> String {
    let names: [String]
    do { names = try FileIO.listDirectory(bootDirectory) } catch { throw HostError("VM kernel", error) }
    let versions = names.filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }
    guard let newest = versions.max(by: { Self.versionOrder($0, $1) }) else {
      throw HostError(
        .notFound, "no kernel in \(bootDirectory) (vmlinuz-*): install linux-image-amd64 to boot VMs from images")
    }
    return bootDirectory + "/vmlinuz-" + newest
  }

  /// The vmlinux of `kernel` (a bzImage; nil: `defaultKernel()`), extracted to `vm/kernel-<version>/`.
  public func vmlinux(kernel: String? = nil) throws(HostError) -> Kernel {
    let bzImage: String
    if let kernel { bzImage = kernel } else { bzImage = try defaultKernel() }
    let base = String(bzImage.split(separator: "/").last ?? "")
    guard base.hasPrefix("vmlinuz-"), base.count > "vmlinuz-".count else {
      throw HostError(.invalidArgument, "kernel \(bzImage): name it vmlinuz-<version> (its modules are found by it)")
    }
    let version = String(base.dropFirst("vmlinuz-".count))
    let dir = layout.vmCache + "/kernel-" + version
    let result = Kernel(vmlinux: dir + "/vmlinux", version: version, modulesDir: modulesRoot + "/" + version)
    let stamp = try Self.fileStamp(bzImage, what: "kernel")
    try withCache { () throws(HostError) in
      if try current(result.vmlinux, stamp: stamp) { return }
      try Self.makeDirectory(dir, mode: 0o755)
      do throws(VMError) { try KernelImage.extractVmlinux(from: bzImage, to: result.vmlinux) } catch {
        throw HostError("VM kernel", error)
      }
      try record(result.vmlinux, stamp: stamp)
    }
    return result
  }

  /// The initramfs base holding the static executable `agent` as /init and `kernel`'s modules, at
  /// `vm/initramfs-<version>-<hash of its inputs' stamps>.cpio`.
  public func initramfs(agent: String, kernel: Kernel, modules: [String] = ModuleSet.guestModules) throws(HostError)
    -> String
  {
    // Named by stamps, not content: hashing a static agent of several MiB on every start costs more
    // than the whole check should.
    let inputs =
      try Self.fileStamp(agent, what: "agent")
      + Self.fileStamp(kernel.modulesDir + "/modules.dep", what: "VM initramfs")
      + modules.joined(separator: ",") + "\n" + kernel.version
    let hash = String(FNV1a.hash64(inputs.utf8), radix: 16)
    let path = layout.vmCache + "/initramfs-\(kernel.version)-\(hash).cpio"
    try withCache { () throws(HostError) in
      if FileIO.exists(path) { return }
      do throws(VMError) {
        try VMInitramfs.base(
          agent: agent, kernelVersion: kernel.version, modulesDir: kernel.modulesDir, modules: modules, output: path)
      } catch {
        throw HostError("VM initramfs", error)
      }
    }
    return path
  }

  /// The ext4 disk of image `image`'s rootfs (`images/<name>/vm-root.ext4`, 0644), built on first use
  /// and rebuilt when the image record changed.
  public func rootDisk(image: String) throws(HostError) -> String {
    let info = try ImageStore(layout: layout).record(image)
    let path = layout.vmDisk(image)
    let stamp = "image \(info.name) created \(info.created) size \(info.size)\n"
    try withCache { () throws(HostError) in
      if try current(path, stamp: stamp) { return }
      do throws(VMError) { try RootDisk.build(rootfs: layout.imageRootfs(image), output: path) } catch {
        throw HostError("image \"\(image)\": VM disk", error)
      }
      try record(path, stamp: stamp)
    }
    return path
  }

  /// The guest's qcow2 overlay on its image's disk (`<guest>/vm/root.qcow2`); an existing one is the
  /// guest's own data and is kept.
  public func overlay(guest: GuestPaths, image: String) throws(HostError) -> String {
    let base = try rootDisk(image: image)
    let path = guest.vmRootOverlay
    if FileIO.exists(path) { return path }
    try Self.makeDirectory(guest.vm, mode: 0o700)
    do { try QEMUImg.createOverlay(base: base, baseFormat: .raw, output: path) } catch {
      throw HostError("guest VM disk", error)
    }
    return path
  }

  /// Runs `body` holding the store's VM cache lock (made with the cache directory when missing).
  private func withCache(_ body: () throws(HostError) -> Void) throws(HostError) {
    try ImageStore.makeImagesDirectory(layout)
    try Self.makeDirectory(layout.vmCache, mode: 0o755)
    try FileLock.withLock(lockPath, body)
  }

  /// Whether `path` exists and was made from the input `stamp` describes.
  private func current(_ path: String, stamp: String) throws(HostError) -> Bool {
    guard FileIO.exists(path), let recorded = try? FileIO.readString(path + ".stamp") else { return false }
    return recorded == stamp
  }

  private func record(_ path: String, stamp: String) throws(HostError) {
    do { try FileIO.writeAtomically(path: path + ".stamp", Array(stamp.utf8), mode: 0o644, durable: false) } catch {
      throw HostError("", error)
    }
  }

  /// What identifies a host file's content cheaply: its path, size and modification time.
  static func fileStamp(_ path: String, what: String) throws(HostError) -> String {
    var st = stat()
    guard stat(path, &st) == 0 else { throw HostError(what, path: path, errno: errno) }
    guard st.st_mode & S_IFMT == S_IFREG else {
      throw HostError(.invalidArgument, "\(what) \(path): not a regular file")
    }
    return "\(path) size \(st.st_size) mtime \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)\n"
  }

  static func makeDirectory(_ path: String, mode: mode_t) throws(HostError) {
    if mkdir(path, mode) != 0 && errno != EEXIST { throw HostError("mkdir", path: path, errno: errno) }
  }

  /// Whether version `a` sorts before `b`, comparing runs of digits as numbers (6.1.0-9 < 6.1.0-57).
  static func versionOrder(_ a: String, _ b: String) -> Bool {
    func parts(_ s: String) -> [(Int?, String)] {
      var out: [(Int?, String)] = []
      var run = ""
      var digits = false
      for c in s {
        if c.isNumber != digits, !run.isEmpty {
          out.append((digits ? Int(run) : nil, run))
          run = ""
        }
        digits = c.isNumber
        run.append(c)
      }
      if !run.isEmpty { out.append((digits ? Int(run) : nil, run)) }
      return out
    }
    let x = parts(a)
    let y = parts(b)
    for (p, q) in zip(x, y) {
      if let m = p.0, let n = q.0, m != n { return m < n }
      if p.1 != q.1 && (p.0 == nil || q.0 == nil) { return p.1 < q.1 }
    }
    return x.count < y.count
  }
}
