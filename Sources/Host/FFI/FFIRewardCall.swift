import CFFI
import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One exported C function with a plain signature (`--reward-fn lib.so:symbol:signature`),
/// ready to call through libffi: the call interface (`ffi_cif`) is prepared once from the
/// signature. `FFIRewardPlugin` calls it once per rollout from the trainer's thread, so the C
/// function may keep static state, but it must not keep the string pointers after it returns.
/// Scores must be finite; a NaN or infinity is an error that names the library, the symbol and
/// the rollout.
final class FFIRewardCall {
    let spec: FFIRewardSpec
    private let function: @convention(c) () -> Void
    private let cif: UnsafeMutablePointer<ffi_cif>
    private let argumentTypes: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>

    init(spec: FFIRewardSpec) throws {
        self.spec = spec
        let symbol = try Self.lookUp(path: spec.path, symbol: spec.symbol)
        function = unsafeBitCast(symbol, to: (@convention(c) () -> Void).self)

        let n = spec.signature.parameters.count
        argumentTypes = .allocate(capacity: max(n, 1))
        for (k, role) in spec.signature.parameters.enumerated() {
            argumentTypes[k] = Self.ffiType(role.type)
        }
        cif = .allocate(capacity: 1)
        let status = ffi_prep_cif(cif, FFI_DEFAULT_ABI, UInt32(n), Self.ffiType(spec.signature.returnType), argumentTypes)
        guard status == FFI_OK else {
            cif.deallocate()
            argumentTypes.deallocate()
            throw FFIRewardError("libffi could not prepare a call to \(spec.symbol) with signature \(spec.signature) (ffi_prep_cif status \(status.rawValue))")
        }
    }

    deinit {
        // Only the call description goes; the library itself stays loaded (see lookUp).
        cif.deallocate()
        argumentTypes.deallocate()
    }

    /// The score of rollout `index` (of `count`, for the message), checked finite and as a Float.
    func score(prompt: UnsafePointer<CChar>?, completion: UnsafePointer<CChar>?, gold: UnsafePointer<CChar>?, goldValue: Double,
               rollout index: Int, of count: Int) throws -> Float {
        let raw = call(prompt: prompt, completion: completion, gold: gold, goldValue: goldValue)
        guard raw.isFinite else {
            throw FFIRewardError("reward function \(spec.symbol) in '\(spec.path)' returned \(raw) for rollout \(index) of a batch of \(count); a reward must be a finite number")
        }
        let score = Float(raw)
        guard score.isFinite else {
            throw FFIRewardError("reward function \(spec.symbol) in '\(spec.path)' returned \(raw) for rollout \(index) of a batch of \(count), which does not fit a 32-bit float reward")
        }
        return score
    }

    /// One call of the C function with the batch's strings (NUL-terminated, alive for the call),
    /// its result widened to Double (i64 results beyond 2^53 round).
    func call(prompt: UnsafePointer<CChar>?, completion: UnsafePointer<CChar>?, gold: UnsafePointer<CChar>?, goldValue: Double) -> Double {
        let roles = spec.signature.parameters
        // One 8-byte slot per argument holds the char* or the double; libffi reads each
        // argument through a pointer to its slot.
        let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: max(roles.count, 1))
        let argumentPointers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: max(roles.count, 1))
        defer {
            slots.deallocate()
            argumentPointers.deallocate()
        }
        for (k, role) in roles.enumerated() {
            let slot = UnsafeMutableRawPointer(slots + k)
            switch role {
            case .goldValue: slot.storeBytes(of: goldValue, as: Double.self)
            case .completion: slot.storeBytes(of: completion, as: UnsafePointer<CChar>?.self)
            case .gold: slot.storeBytes(of: gold, as: UnsafePointer<CChar>?.self)
            case .prompt: slot.storeBytes(of: prompt, as: UnsafePointer<CChar>?.self)
            }
            argumentPointers[k] = slot
        }

        // libffi widens integer results narrower than ffi_arg to a full ffi_arg, so the return
        // buffer is 16 bytes (ffi_arg or double, 16-byte aligned) and i32 is read as ffi_sarg.
        let result = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
        defer { result.deallocate() }
        result.initializeMemory(as: UInt8.self, repeating: 0, count: 16)
        // Recorded while it runs, so a hang (--plugin-timeout) or a crash inside it is reported
        // by library and symbol rather than as the plugin wrapped around it.
        PluginCallRecord.during(plugin: "", library: spec.path, function: spec.symbol) {
            ffi_call(cif, function, result, argumentPointers)
        }
        switch spec.signature.returnType {
        case .f64: return result.load(as: Double.self)
        case .f32: return Double(result.load(as: Float.self))
        case .i32: return Double(Int32(truncatingIfNeeded: result.load(as: ffi_sarg.self)))
        case .i64: return Double(result.load(as: Int64.self))
        }
    }

    /// Opens the library (`SharedLibrary`: never closed, so the function pointer stays valid for
    /// the run) and finds the symbol, with errors a researcher can act on.
    static func lookUp(path: String, symbol: String) throws -> UnsafeMutableRawPointer {
        let handle: UnsafeMutableRawPointer
        switch SharedLibrary.open(path) {
        case .success(let h): handle = h
        case .failure(.missing(let relativeTo)):
            throw FFIRewardError("reward library '\(path)' does not exist\(relativeTo.map { " (relative to \($0))" } ?? "")")
        case .failure(.folder):
            throw FFIRewardError("reward library '\(path)' is a folder, not a shared library")
        case .failure(.notLoadable(let why)):
            throw FFIRewardError("'\(path)' could not be loaded as a shared library: \(why)")
        }
        guard let address = dlsym(handle, symbol) else {
            throw FFIRewardError("""
                symbol '\(symbol)' not found in '\(path)'; `nm -D --defined-only \(path)` lists the functions \
                it exports. A function compiled as C++ needs extern "C" (its name is mangled otherwise), \
                and one built with -fvisibility=hidden needs __attribute__((visibility("default")))
                """)
        }
        return address
    }

    private static func ffiType(_ t: FFISignature.ParameterType) -> UnsafeMutablePointer<ffi_type> {
        switch t {
        case .str: return address(of: &ffi_type_pointer)
        case .f64: return address(of: &ffi_type_double)
        }
    }

    private static func ffiType(_ t: FFISignature.ReturnType) -> UnsafeMutablePointer<ffi_type> {
        switch t {
        case .f32: return address(of: &ffi_type_float)
        case .f64: return address(of: &ffi_type_double)
        case .i32: return address(of: &ffi_type_sint32)
        case .i64: return address(of: &ffi_type_sint64)
        }
    }

    /// libffi's type descriptors are C globals with fixed addresses, so the pointer stays valid
    /// after the call (a Swift variable's address would not).
    private static func address(of global: UnsafeMutablePointer<ffi_type>) -> UnsafeMutablePointer<ffi_type> {
        global
    }
}

struct FFIRewardError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
