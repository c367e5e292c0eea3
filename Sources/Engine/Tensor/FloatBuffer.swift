import Foundation

/// A flat, owned, zero-initialised float32 buffer: the storage of every tensor in the Engine.
/// Shapes are kept by the code that uses a buffer (as in llm.c), not by the buffer.
public final class FloatBuffer {
    public let count: Int
    public let ptr: UnsafeMutablePointer<Float>

    /// glibc serves an allocation from its heap once one of that size has been freed (its mmap
    /// threshold rises to 32 MB), and a heap seldom gives memory back: a training run whose
    /// activations are reallocated for a larger batch then holds both sets. From 1 MB up,
    /// buffers are mapped on their own and unmapped when freed.
    private static let largeBuffersMapped: Void = {
        // mallopt(M_MMAP_THRESHOLD = -3, bytes), looked up because Swift's Glibc module does not
        // export it; elsewhere (not glibc) there is nothing to set.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(-3, 1 << 20)
    }()

    public init(_ count: Int) {
        _ = Self.largeBuffersMapped
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
