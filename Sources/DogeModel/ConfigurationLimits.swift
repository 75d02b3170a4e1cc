import Foundation

// A config.json (or a recipe's model_init_kwargs) is untrusted input: its sizes decide what the
// program allocates before a single weight is read. These bounds turn absurd sizes into a
// clear error instead of an out-of-memory kill.

extension DogeConfiguration {
    /// Far beyond any Doge (the largest has 32 layers) but small enough that the per-layer
    /// tensor list stays cheap.
    public static let maxHiddenLayers = 4096
    /// 2^40 parameters (4 TiB of float32): anything larger is a typo or hostile.
    public static let maxParameterCount = 1 << 40

    /// Number of parameters of the model this config describes (causal LM head, native layout),
    /// computed without building the tensor list; nil when it overflows `Int`.
    public var parameterCount: Int? {
        func product(_ shape: [Int]) -> Int? {
            var n = 1
            for d in shape {
                let (m, o) = n.multipliedReportingOverflow(by: d)
                if o { return nil }
                n = m
            }
            return n
        }
        func total(_ specs: [ParameterSpec]) -> Int? {
            var n = 0
            for s in specs {
                guard let p = product(s.shape) else { return nil }
                let (m, o) = n.addingReportingOverflow(p)
                if o { return nil }
                n = m
            }
            return n
        }
        var one = self
        one.numHiddenLayers = 1
        var none = self
        none.numHiddenLayers = 0
        guard let withOne = total(one.parameterSpecs(layout: .native)),
              let base = total(none.parameterSpecs(layout: .native)) else { return nil }
        let (layers, o1) = (withOne - base).multipliedReportingOverflow(by: numHiddenLayers)
        let (sum, o2) = base.addingReportingOverflow(layers)
        return o1 || o2 ? nil : sum
    }

    /// Refuses sizes no real checkpoint has (called by `validate`).
    func validateSizes(file: String) throws {
        if numHiddenLayers > Self.maxHiddenLayers {
            throw ModelError.invalidConfig(file: file, field: "num_hidden_layers",
                problem: "\(numHiddenLayers) layers is more than the \(Self.maxHiddenLayers) swift-doge accepts")
        }
        // Each size below 2^31, so the products of two that the tensor list forms cannot overflow.
        for (field, value) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                               ("num_attention_heads", numAttentionHeads), ("num_key_value_heads", numKeyValueHeads),
                               ("head_dim", headDim), ("num_experts", numExperts), ("num_labels", numLabels)]
        where value >= 1 << 31 {
            throw ModelError.invalidConfig(file: file, field: field, problem: "\(value) is over the limit of 2^31")
        }
        guard let n = parameterCount, n <= Self.maxParameterCount else {
            throw ModelError.invalidConfig(file: file, field: "hidden_size",
                problem: "these sizes (vocab_size \(vocabSize), hidden_size \(hiddenSize), intermediate_size \(intermediateSize), "
                    + "\(numHiddenLayers) layers, num_experts \(numExperts)) describe more than 2^40 parameters")
        }
    }

    /// Throws when a new model of this config, with `bytesPerParameter` bytes for each parameter
    /// (4 for weights; 16 for training: weights, gradients and AdamW's two moments), cannot fit
    /// in this machine's physical memory.
    public func checkFitsInMemory(bytesPerParameter: Int, what: String) throws {
        let physical = ProcessInfo.processInfo.physicalMemory
        guard let n = parameterCount else { return }
        let (need, o) = n.multipliedReportingOverflow(by: bytesPerParameter)
        if o || UInt64(need) > physical {
            let gib = { (b: Double) in String(format: "%.1f GiB", b / 1_073_741_824) }
            throw ModelError.unsupported("\(what): \(n) parameters need \(o ? "more than 8 EiB" : gib(Double(need))) "
                + "but this machine has \(gib(Double(physical))) of memory; choose smaller sizes")
        }
    }
}
