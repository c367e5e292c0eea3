/// `org.workbench.pooling.last`: the embedding of each row's last masked token
/// (`LastTokenPooling`). No config.
enum LastTokenPoolingPlugin {
    static let id = "org.workbench.pooling.last"
    static let descriptor = PoolingInstance.makeDescriptor(
        id: id, summary: "embedding of the last masked token", math: LastTokenPooling.self,
        create: { _, host, n, k, v, out in
            BuiltinCall.create(host, n, k, v, out, specs: []) { _, host in PoolingInstance(LastTokenPooling.self, host: host) }
        })
}
