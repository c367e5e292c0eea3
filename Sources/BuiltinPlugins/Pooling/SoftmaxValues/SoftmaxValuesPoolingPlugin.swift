/// `org.workbench.pooling.softmax-values`: CARFT's CoT embedding z = Σ_t softmax_t(V_t) p_t over
/// the masked tokens (`SoftmaxValuesPooling`); declares WB_POOLING_USES_VALUES. No config.
enum SoftmaxValuesPoolingPlugin {
    static let id = "org.workbench.pooling.softmax-values"
    static let descriptor = PoolingInstance.makeDescriptor(
        id: id, summary: "CARFT: tokens weighted by the softmax of the value head's outputs (needs values)",
        math: SoftmaxValuesPooling.self,
        create: { _, host, n, k, v, out in
            BuiltinCall.create(host, n, k, v, out, specs: []) { _, host in PoolingInstance(SoftmaxValuesPooling.self, host: host) }
        })
}
