import Foundation
import DogeKernels

/// Reads a Hugging Face checkpoint directory: config.json, the weights, the layout.
public enum CheckpointLoader {
    public static func load(directory: URL, head: ModelHead) throws
        -> (DogeConfiguration, CheckpointLayout, [String: Tensor]) {
        let (config, layout, dense, _) = try load(directory: directory, head: head, loading: .float32)
        return (config, layout, dense)
    }

    /// As `load(directory:head:)`, holding matrices as `loading` asks (16-bit or quantized in `typed`).
    public static func load(directory: URL, head: ModelHead, loading: WeightLoading) throws
        -> (config: DogeConfiguration, layout: CheckpointLayout, dense: [String: Tensor], typed: [String: TypedMatrix]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelError.noModel(directory: directory.path, detail: "no such directory")
        }
        let configURL = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw ModelError.noModel(directory: directory.path, detail: "no config.json")
        }
        let config = try DogeConfiguration.load(from: configURL)
        let store = try WeightStore(directory: directory)
        let layout = CheckpointLayout.detect(shapes: store.shapes, config: config)
        var allowUnused: Set<String> = []
        // Tied checkpoints sometimes still carry the head; transformers ignores it.
        if config.tieWordEmbeddings || head == .sequenceClassification { allowUnused.insert("lm_head.weight") }
        for i in 0..<config.numHiddenLayers { allowUnused.insert("model.layers.\(i).self_attn.rotary_emb.inv_freq") }
        let quantized = try CheckpointQuantization.storage(of: config)
        let (dense, typed) = try store.load(config.parameterSpecs(layout: layout, head: head), allowUnused: allowUnused,
                                            loading: loading, quantized: quantized)
        return (config, layout, dense, typed)
    }
}
