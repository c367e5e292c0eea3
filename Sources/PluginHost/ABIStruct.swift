import PluginABI

/// Reads ABI structs the way the header's versioning rule demands: only the bytes the writer's
/// struct_size covers. A plugin built against an older minor version has a shorter struct, and
/// reading our full Swift size could run past its allocation; the fields it lacks read as zero
/// (NULL), which every caller treats as "absent".
enum ABIStruct {
    /// The struct at `pointer`, truncated to its writer's struct_size and zero-filled beyond.
    static func read<T>(_ pointer: UnsafePointer<T>) -> (value: T, size: Int) {
        let size = Int(UnsafeRawPointer(pointer).load(as: UInt32.self))
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.size)
        raw.copyMemory(from: pointer, byteCount: min(size, MemoryLayout<T>.size))
        return (raw.load(as: T.self), size)
    }

    /// Bytes needed for a struct of type T to hold `field` completely.
    static func end<T, F>(of field: KeyPath<T, F>) -> Int {
        MemoryLayout<T>.offset(of: field)! + MemoryLayout<F>.size
    }

    /// The struct_size value a writer of this ABI version puts in a struct of type T.
    static func size<T>(_: T.Type) -> UInt32 { UInt32(MemoryLayout<T>.size) }
}

/// A C string from a plugin, or nil for NULL.
@inline(__always)
func cString(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
