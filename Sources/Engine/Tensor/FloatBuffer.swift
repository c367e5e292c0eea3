import Foundation

/// A flat, owned, zero-initialised float32 buffer: the storage of every tensor in the Engine.
/// Shapes are kept by the code that uses a buffer (as in llm.c), not by the buffer.
public final class FloatBuffer {
    public let count: Int
    public let ptr: UnsafeMutablePointer<Float>

    /// Hands memory freed to glibc's heap back to the system (malloc_trim, looked up because
    /// Swift's Glibc module does not export it; elsewhere there is nothing to do). glibc serves
    /// buffers of up to 32 MB from its heap once one that size has been freed, and a heap keeps
    /// what is freed: a caller that has just dropped gigabytes it will not need for a while
    /// calls this, so its peak memory is what it holds at once.
    public static func returnFreedMemory() {
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
    }

    public init(_ count: Int) {
        self.count = count
        // 64-byte alignment lets the compiler and OpenBLAS use aligned AVX-512 loads.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
        ptr = raw.bindMemory(to: Float.self, capacity: max(1, count))
        ptr.initialize(repeating: 0, count: max(1, count))
    }

    public convenience init(_ values: [Float]) {
        self.init(values.count)
        values.withUnsafeBufferPointer { ptr.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { UnsafeMutableRawPointer(ptr).deallocate() }

    public subscript(i: Int) -> Float {
        get { ptr[i] }
        set { ptr[i] = newValue }
    }

    public func zero() { ptr.update(repeating: 0, count: count) }

    public var array: [Float] { Array(UnsafeBufferPointer(start: ptr, count: count)) }

    public func copy(from other: FloatBuffer) {
        precondition(other.count == count, "FloatBuffer.copy: size \(other.count) != \(count)")
        ptr.update(from: other.ptr, count: count)
    }
}
