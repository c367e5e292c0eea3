/// `org.workbench.pooling.mean`: the mean of the masked tokens' embeddings (`MeanPooling`). No config.
enum MeanPoolingPlugin {
    static let id = "org.workbench.pooling.mean"
    static let descriptor = PoolingInstance.makeDescriptor(
        id: id, summary: "mean of the masked tokens' embeddings", math: MeanPooling.self,
        create: { _, host, n, k, v, out in
            BuiltinCall.create(host, n, k, v, out, specs: []) { _, host in PoolingInstance(MeanPooling.self, host: host) }
        })
}
