import CellaErrors
import CellaSys
import Glibc

/// The accelerator `vm.accel=auto` resolves to, with why.
public enum AccelVerdict: Sendable, Equatable {
  case kvm
  case tcg(reason: String)

  /// QEMU's name for it (`-accel kvm` / `-accel tcg`).
  public var name: String {
    switch self {
    case .kvm: return "kvm"
    case .tcg: return "tcg"
    }
  }

  /// One line for `info` and the daemon log: "kvm" or "tcg: <reason>".
  public var summary: String {
    switch self {
    case .kvm: return "kvm"
    case .tcg(let reason): return "tcg: \(reason)"
    }
  }
}

/// Decides KVM or TCG by trying KVM, not by /dev/kvm's existence; the answer is kept per host boot.
///
/// These machines expose /dev/kvm through PVM (kvm_pvm: KVM in software inside a VM): QEMU starts
/// there, but a stock guest kernel hangs after SeaBIOS with the default CPU, and `-cpu host` aborts
/// on MSR 0x10a (IA32_ARCH_CAPABILITIES). The probe catches both: the loaded kvm_pvm module, and a
/// stopped (`-S`) QEMU with `-cpu host` that must set up its vCPU and quit over QMP.
public struct AccelProbe: Sendable {
  /// The files and program the probe reads; tests point them at a scratch tree.
  public var devKVM = "/dev/kvm"
  public var pvmModule = "/sys/module/kvm_pvm"
  public var bootIDPath = "/proc/sys/kernel/random/boot_id"
  public var qemu = "/usr/bin/qemu-system-x86_64"
  /// How long QEMU may take to start and quit before the probe calls KVM unusable.
  public var timeout = 5.0

  public init() {}

  /// The verdict from `cachePath` when it was written in this boot, else a fresh probe saved there.
  public func verdict(cachePath: String) throws(VMError) -> AccelVerdict {
    let bootID = (try? FileIO.readString(bootIDPath))?.trimmingCharacters(in: " \n") ?? ""
    if !bootID.isEmpty, let text = try? FileIO.readString(cachePath),
      let cached = Self.decode(text, bootID: bootID)
    {
      return cached
    }
    let fresh = try probe()
    if !bootID.isEmpty {
      do {
        try FileIO.writeAtomically(path: cachePath, Array(Self.encode(fresh, bootID: bootID).utf8), durable: false)
      } catch {
        throw VMError(ErrorKind.from(errno: error.errno), "\(cachePath): \(error)")
      }
    }
    return fresh
  }

  /// Probes now, without the cache.
  public func probe() throws(VMError) -> AccelVerdict {
    guard access(qemu, X_OK) == 0 else {
      throw VMError(.unsupported, "\(qemu): not found; install qemu-system-x86")
    }
    let fd = open(devKVM, O_RDWR | O_CLOEXEC)
    if fd < 0 { return .tcg(reason: "\(devKVM): \(String(cString: strerror(errno)))") }
    close(fd)
    var reasons: [String] = []
    if FileIO.isDirectory(pvmModule) {
      reasons.append("\(devKVM) is PVM (\(pvmModule) is loaded), where stock guest kernels hang or crash")
    }
    let quit = Array(#"{"execute":"qmp_capabilities"}{"execute":"quit"}"#.utf8)
    let run = try KernelTool.run(
      qemu,
      [
        "-accel", "kvm", "-cpu", "host", "-machine", "microvm", "-m", "16", "-nodefaults", "-nographic",
        "-display", "none", "-S", "-qmp", "stdio",
      ], input: quit, timeout: timeout)
    if let failure = Self.failure(of: run, timeout: timeout) { reasons.append(failure) }
    return reasons.isEmpty ? .kvm : .tcg(reason: reasons.joined(separator: "; "))
  }

  /// Why a probe run shows KVM unusable, nil when QEMU started and quit cleanly.
  static func failure(of run: KernelTool.Outcome, timeout: Double) -> String? {
    if run.timedOut { return "QEMU with -accel kvm did not start and quit within \(timeout) s" }
    if run.exitCode == 0 { return nil }
    // QEMU's own "error:" line says more than the assertion that follows it.
    let lines = run.stderr.split(separator: "\n").map(String.init)
    let line = lines.first { $0.contains("error:") } ?? lines.last ?? ""
    let text = line.replacingPrefix("qemu-system-x86_64: ")
    return "QEMU -accel kvm -cpu host exited \(run.exitCode)" + (text.isEmpty ? "" : " (\(text))")
  }

  static func encode(_ verdict: AccelVerdict, bootID: String) -> String {
    switch verdict {
    case .kvm: return "\(bootID)\nkvm\n"
    case .tcg(let reason): return "\(bootID)\ntcg\n\(reason)\n"
    }
  }

  static func decode(_ text: String, bootID: String) -> AccelVerdict? {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard lines.count >= 2, lines[0] == bootID else { return nil }
    switch lines[1] {
    case "kvm": return .kvm
    case "tcg" where lines.count >= 3 && !lines[2].isEmpty: return .tcg(reason: lines[2])
    default: return nil
    }
  }
}

extension String {
  fileprivate func replacingPrefix(_ prefix: String) -> String {
    hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
  }
}
