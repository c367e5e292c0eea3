import Foundation

/// Opens a shared library the user named by path: plugin libraries and `--reward-fn` libraries
/// alike, so both read a path the same way. Each caller words the failures for its own flag.
///
/// Libraries are never closed: their function pointers and (for Swift plugins) type metadata
/// are used for the rest of the run, and C/C++ libraries may register atexit handlers or
/// thread-local destructors that crash once their code is unmapped. dlopen reference-counts, so
/// opening a path again costs nothing. RTLD_NOW surfaces missing dependencies at load rather
/// than at the first call; RTLD_LOCAL keeps the library's symbols from resolving anyone else's.
enum SharedLibrary {
    enum OpenError: Error {
        /// No file at the path; `relativeTo` is the folder a relative path was read from.
        case missing(relativeTo: String?)
        case folder
        /// dlopen refused the file; its reason.
        case notLoadable(String)
    }

    static func open(_ path: String) -> Result<UnsafeMutableRawPointer, OpenError> {
        // dlopen searches the library path for a name without '/'; the user meant this file.
        let filePath = path.contains("/") ? path : "./" + path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: filePath, isDirectory: &isDirectory) else {
            return .failure(.missing(relativeTo: path.hasPrefix("/") ? nil : FileManager.default.currentDirectoryPath))
        }
        guard !isDirectory.boolValue else { return .failure(.folder) }
        _ = dlerror()
        guard let handle = dlopen(filePath, RTLD_NOW | RTLD_LOCAL) else {
            return .failure(.notLoadable(dlerror().map { String(cString: $0) } ?? "unknown reason"))
        }
        _ = dlerror()
        return .success(handle)
    }
}
