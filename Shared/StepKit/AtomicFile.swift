import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `text` as UTF-8 to `path` atomically, as `writeAtomically(_:toPath:)` does for data.
public func writeAtomically(_ text: String, toPath path: String) throws {
    try writeAtomically(Data(text.utf8), toPath: path)
}

/// Writes `data` to `path` so that readers see either the old file or the complete new one.
///
/// The data goes to a hidden temporary file in the same folder, which is then renamed over
/// `path`. A rename within one file system replaces the file in one step, and a temporary file in
/// another folder could sit on another file system. On failure the temporary file is removed.
/// - Throws: `StepError` when the folder is missing, `path` is a folder, or writing or renaming fails.
public func writeAtomically(_ data: Data, toPath path: String) throws {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    let fileManager = FileManager.default

    var isDirectory: ObjCBool = false
    guard fileManager.fileExists(atPath: folder, isDirectory: &isDirectory) else {
        throw StepError("cannot write \(path): the folder \(folder) does not exist. Create it with `mkdir -p \(folder)` or choose another path.")
    }
    guard isDirectory.boolValue else {
        throw StepError("cannot write \(path): \(folder) is a file, not a folder. Choose a path inside a folder.")
    }
    if fileManager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw StepError("cannot write \(path): it is a folder. Pass a file path such as \(path)/output.svg.")
    }

    let temporaryPath = (folder as NSString).appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    do {
        try data.write(to: URL(fileURLWithPath: temporaryPath))
    } catch {
        try? fileManager.removeItem(atPath: temporaryPath)
        throw StepError("cannot write \(path): \(error.localizedDescription). Check that the folder \(folder) is writable.")
    }

    if rename(temporaryPath, path) != 0 {
        let reason = String(cString: strerror(errno))
        try? fileManager.removeItem(atPath: temporaryPath)
        throw StepError("cannot write \(path): renaming the temporary file \(temporaryPath) failed: \(reason).")
    }
}
