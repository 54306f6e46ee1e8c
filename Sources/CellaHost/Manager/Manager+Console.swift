import CellaAPI
import CellaSys
import Glibc

extension Manager {
  public func logs(_ name: String) throws -> [UInt8] {
    _ = try loadRecord(name)
    return consoleHistory(layout.guest(name))
  }

  public func attachConsole(_ name: String, history: Bool) throws -> ConsoleAttachment {
    _ = try loadRecord(name)
    let paths = layout.guest(name)
    let keeperFD = KeeperLink.isAlive(paths: paths) ? try? KeeperLink.connect(paths: paths) : nil
    return ConsoleAttachment(history: history ? consoleHistory(paths) : [], keeper: keeperFD)
  }

  /// The console output on disk: the rotated file, then the current one.
  func consoleHistory(_ paths: GuestPaths) -> [UInt8] {
    let limit = 256 << 20
    let old = (try? FileIO.read(paths.consoleLogOld, limit: limit)) ?? []
    let current = (try? FileIO.read(paths.consoleLog, limit: limit)) ?? []
    return old + current
  }
}
