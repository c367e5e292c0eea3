#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PluginABI

/// Memory the built-ins' descriptors point into. Allocated once per process and never freed:
/// the header promises descriptors, keys and strings live until the process exits.
enum CMemory {
    /// A NUL-terminated copy of `s`, never freed.
    static func string(_ s: String) -> UnsafePointer<CChar> { UnsafePointer(strdup(s)!) }

    /// `value` in fresh memory, never freed.
    static func keep<T>(_ value: T) -> UnsafePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
        p.initialize(to: value)
        return UnsafePointer(p)
    }

    /// An array of pointers in fresh memory, never freed; nil when empty (the header's NULL).
    static func array<T>(_ items: [UnsafePointer<T>]) -> UnsafePointer<UnsafePointer<T>?>? {
        guard !items.isEmpty else { return nil }
        let p = UnsafeMutablePointer<UnsafePointer<T>?>.allocate(capacity: items.count)
        for (i, item) in items.enumerated() { (p + i).initialize(to: item) }
        return UnsafePointer(p)
    }
}
