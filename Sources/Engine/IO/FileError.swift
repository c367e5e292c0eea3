import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed file-system call, naming the file and what to check, so an I/O failure deep inside a
/// save or load still tells the user which path to look at.
public struct FileError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }

    /// Builds the error from the current `errno`, which must be read before any other call.
    static func posix(_ path: String, _ action: String, hint: String) -> FileError {
        let reason = String(cString: strerror(errno))
        return FileError(path: path, problem: "\(action) failed (\(reason)); \(hint)")
    }
}

extension FileError {
    /// A Foundation file error in a few words ("Permission denied", "No space left on device"),
    /// instead of the NSError dump its description prints.
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if let e = error as? CocoaError {
            switch e.code {
            case .fileWriteNoPermission, .fileReadNoPermission: return "permission denied"
            case .fileWriteOutOfSpace: return "no space left on device"
            case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
            case .fileWriteFileExists: return "a file is in the way"
            case .fileWriteVolumeReadOnly: return "read-only file system"
            default: break
            }
        }
        return ns.localizedDescription
    }

    /// Why a folder cannot be created at `path`, found by looking at its nearest existing
    /// ancestor (Foundation often reports only "error 512"); nil when nothing is visibly wrong.
    public static func folderObstacle(_ path: String) -> String? {
        var ancestor = URL(fileURLWithPath: path).standardizedFileURL
        while ancestor.path != "/" {
            ancestor = ancestor.deletingLastPathComponent()
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDir) else { continue }
            if !isDir.boolValue { return "\(ancestor.path) is a file, not a folder" }
            if access(ancestor.path, W_OK) != 0 { return "no permission to create anything in \(ancestor.path)" }
            return nil
        }
        return nil
    }
}
