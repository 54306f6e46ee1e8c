import CellaAPI
import CellaErrors
import CellaSys
import Glibc

/// `config edit` and `profile edit`: the keys in `$VISUAL`/`$EDITOR` (default vi), read back.
enum Editor {
  /// The edited keys, or nil when nothing changed. A parse error names the line; nothing is saved then.
  static func edit(_ config: [String: String], what: String) throws -> [String: String]? {
    let header =
      "The config keys of \(what), one \"key: value\" a line.\nSave and quit to apply; empty the file to remove every key."
    let text = ConfigText.render(config, header: header)
    var template = Array(
      ((getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp") + "/cella-edit-XXXXXX.yaml").utf8CString)
    let fd = mkstemps(&template, 5)
    guard fd >= 0 else { throw APIError(.system, "temporary file: \(ErrorText.errno(errno))") }
    let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    defer { unlink(path) }
    do {
      try FileIO.writeAll(fd: fd, Array(text.utf8), path: path)
      close(fd)
    } catch {
      close(fd)
      throw error
    }
    let editor = CLI.environment["VISUAL"] ?? CLI.environment["EDITOR"] ?? "vi"
    // Through sh so EDITOR may carry arguments ("code --wait"), as git and crontab allow.
    let pid = try Spawn.start(
      path: "/bin/sh", argv: ["sh", "-c", editor + " \"$1\"", "sh", path], env: currentEnvironment(), stdin: 0,
      stdout: 1, stderr: 2)
    let status = try Processes.wait(pid)
    guard status == 0 else {
      throw APIError(
        .invalidArgument, "editor \"\(editor)\" exited with status \(Processes.exitCode(status: status)); nothing saved"
      )
    }
    let edited = try ConfigText.parse(try FileIO.readString(path), file: path)
    return edited == config ? nil : edited
  }

  static func currentEnvironment() -> [String] {
    var out = [String]()
    var p = environ
    while let entry = p.pointee {
      out.append(String(cString: entry))
      p += 1
    }
    return out
  }
}
