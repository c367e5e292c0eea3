import PluginABI

/// The C boundary of the built-ins: turns opaque instance pointers back into Swift objects and
/// Swift errors into a status plus a message through host->error. Nothing thrown inside a
/// built-in crosses into the host.
enum BuiltinCall {
    /// create: parses the config against `keys`, makes the instance with `make`, and hands it
    /// out retained. On failure reports through host->error and leaves *out untouched.
    static func create(_ host: UnsafePointer<wb_host>?, _ count: UInt32, _ keys: UnsafePointer<UnsafePointer<CChar>?>?,
                       _ values: UnsafePointer<UnsafePointer<CChar>?>?, _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                       specs: [ConfigKeySpec], make: (BuiltinConfig, UnsafePointer<wb_host>?) throws -> BuiltinInstance) -> wb_status {
        func fail(_ status: Int, _ message: String) -> wb_status {
            if let host, let sink = host.pointee.error { message.withCString { sink(host, $0) } }
            return wb_status(status)
        }
        guard let out else { return fail(WB_ERROR_INVALID_ARGUMENT, "create got a NULL out_instance") }
        do {
            let config = try BuiltinConfig(count: count, keys: keys, values: values, specs: specs)
            let instance = try make(config, host)
            out.pointee = Unmanaged.passRetained(instance).toOpaque()
            return wb_status(WB_OK)
        } catch let failure as PluginFailure {
            return fail(Int(failure.status), failure.message)
        } catch {
            return fail(WB_ERROR, "\(error)")
        }
    }

    static let destroy: @convention(c) (UnsafeMutableRawPointer?) -> Void = { instance in
        guard let instance else { return }
        Unmanaged<BuiltinInstance>.fromOpaque(instance).release()
    }

    /// The Swift object behind an instance pointer, when it is a `T`.
    static func object<T: BuiltinInstance>(_ instance: UnsafeRawPointer?, as _: T.Type) -> T? {
        guard let instance else { return nil }
        return Unmanaged<BuiltinInstance>.fromOpaque(instance).takeUnretainedValue() as? T
    }

    /// Runs one kind function on the instance: WB_OK, or the error's status after reporting
    /// its message. A NULL or foreign instance cannot report (it has no host) and gets
    /// WB_ERROR_INVALID_ARGUMENT.
    static func run<T: BuiltinInstance>(_ instance: UnsafeRawPointer?, as type: T.Type, _ body: (T) throws -> Void) -> wb_status {
        guard let object = object(instance, as: type) else { return wb_status(WB_ERROR_INVALID_ARGUMENT) }
        do {
            try body(object)
            return wb_status(WB_OK)
        } catch let failure as PluginFailure {
            object.reportError(failure.message)
            return failure.status
        } catch {
            object.reportError("\(error)")
            return wb_status(WB_ERROR)
        }
    }

    /// Throws unless the writer's struct_size covers `field` (WB_HAS_FIELD).
    static func require<S, F>(_ p: UnsafePointer<S>, covers field: KeyPath<S, F>, _ name: String) throws {
        let size = Int(UnsafeRawPointer(p).load(as: UInt32.self))
        let end = MemoryLayout<S>.offset(of: field)! + MemoryLayout<F>.size
        guard size >= end else { throw PluginFailure.invalid("\(name).struct_size is \(size), smaller than the \(end) bytes of ABI 1.0") }
    }
}
