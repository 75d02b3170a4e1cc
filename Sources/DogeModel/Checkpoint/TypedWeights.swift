import Foundation
import DogeKernels

/// How a checkpoint's matrices are held in memory once loaded.
///
/// Inference (the default): BF16 and F16 matrices stay 16-bit, quantized checkpoints stay
/// quantized, and `quantize` turns float matrices into Q8_0 or Q4_0 at load. Training needs
/// `.float32`: every tensor widened (or dequantized) to float32.
public struct WeightLoading: Sendable, Equatable {
    /// Keep BF16 / F16 matrices 16-bit (no float32 copy).
    public var keep16Bit: Bool
    /// Quantize float matrices at load (q8_0 or q4_0).
    public var quantize: WeightStorage?

    public init(keep16Bit: Bool = true, quantize: WeightStorage? = nil) {
        precondition(quantize == nil || quantize!.isQuantized, "quantize must be q8_0 or q4_0")
        self.keep16Bit = keep16Bit
        self.quantize = quantize
    }

    public static let inference = WeightLoading()
    public static let float32 = WeightLoading(keep16Bit: false)
}

/// A quantized checkpoint's record in config.json:
/// `"quantization_config": {"quant_method": "swift-doge", "weight_type": "q8_0", "block_size": 32}`.
public enum CheckpointQuantization {
    public static let method = "swift-doge"
    /// Suffix of the tensor holding a quantized matrix's F16 block scales.
    public static let scaleSuffix = ".scales"

    /// The quantized type config.json records, nil for a float checkpoint.
    public static func storage(of config: DogeConfiguration, file: String = "config.json") throws -> WeightStorage? {
        guard let entry = config.raw["quantization_config"], entry != .null else { return nil }
        guard case .object(let q) = entry else {
            throw ModelError.invalidConfig(file: file, field: "quantization_config", problem: "expected an object")
        }
        guard case .string(let method)? = q["quant_method"], method == Self.method else {
            throw ModelError.unsupported("\(file): quantization_config.quant_method \(q["quant_method"].map { "\($0)" } ?? "(missing)") is not supported: swift-doge reads the q8_0 / q4_0 checkpoints `doge quantize` writes (quant_method \"\(Self.method)\")")
        }
        guard case .string(let name)? = q["weight_type"], let type = WeightStorage(rawValue: name), type.isQuantized else {
            throw ModelError.invalidConfig(file: file, field: "quantization_config.weight_type",
                                           problem: "unknown type \(q["weight_type"].map { "\($0)" } ?? "(missing)"); expected one of \(WeightStorage.quantized.map(\.rawValue).joined(separator: ", "))")
        }
        if let b = q["block_size"], b != .int(WeightStorage.blockSize) {
            throw ModelError.invalidConfig(file: file, field: "quantization_config.block_size", problem: "is \(b) but only blocks of \(WeightStorage.blockSize) are supported")
        }
        return type
    }

    static func record(_ type: WeightStorage) -> JSONValue {
        .object(["quant_method": .string(method), "weight_type": .string(type.rawValue),
                 "block_size": .int(WeightStorage.blockSize), "scale_dtype": .string("F16")])
    }

    /// The safetensors dtype and shape a quantized [rows, cols] matrix's values are stored as.
    static func valueLayout(_ type: WeightStorage, rows: Int, cols: Int) -> (SafeTensorsDType, [Int]) {
        type == .q8_0 ? (.I8, [rows, cols]) : (.U8, [rows, cols / 2])
    }
}

extension ParameterSpec {
    /// Matrices that may be held typed: Linear weights and the token embeddings (also the tied head).
    var mayBeTyped: Bool {
        shape.count == 2 && (role == .weight || key == "model.embed_tokens.weight")
    }
}

extension WeightStore {
    /// Loads `specs` as `loading` asks: typed matrices (16-bit or quantized) where allowed, the
    /// rest float32. `quantized` is the checkpoint's own quantization (config.json).
    public func load(_ specs: [ParameterSpec], allowUnused: Set<String> = [], loading: WeightLoading,
                     quantized: WeightStorage?) throws -> (dense: [String: Tensor], typed: [String: TypedMatrix]) {
        if let quantized, let requested = loading.quantize {
            throw ModelError.invalidInput("the checkpoint in \(directory.path) is already quantized (\(quantized.rawValue), config.json quantization_config); load it without --quantize \(requested.rawValue)")
        }
        var dense: [String: Tensor] = [:], typed: [String: TypedMatrix] = [:]
        var expected = Set(specs.map(\.key)).union(allowUnused)
        for spec in specs {
            guard let file = locations[spec.key], let handle = files[file], let info = handle.tensors[spec.key] else {
                throw ModelError.missingTensor(name: spec.key, file: locationSummary)
            }
            let (rows, cols) = spec.shape.count == 2 ? (spec.shape[0], spec.shape[1]) : (0, 0)
            if let quantized, spec.mayBeTyped, info.dtype == .I8 || info.dtype == .U8 {
                expected.insert(spec.key + CheckpointQuantization.scaleSuffix)
                let matrix = try readQuantized(spec, type: quantized, file: file, handle: handle, info: info)
                if loading.keep16Bit || loading.quantize != nil { typed[spec.key] = matrix }
                else { dense[spec.key] = Tensor(shape: spec.shape, data: matrix.floats()) }
                continue
            }
            guard info.shape == spec.shape else {
                throw ModelError.shapeMismatch(name: spec.key, file: file, expected: spec.shape, found: info.shape)
            }
            if spec.mayBeTyped, let q = loading.quantize, TypedMatrix.canStore(cols: cols, as: q) {
                let floats = try handle.floatTensor(spec.key)
                typed[spec.key] = floats.data.withUnsafeBufferPointer { TypedMatrix(converting: $0, rows: rows, cols: cols, to: q) }
            } else if spec.mayBeTyped, loading.keep16Bit, info.dtype == .BF16 || info.dtype == .F16, let bytes = handle.bytes(of: spec.key) {
                typed[spec.key] = TypedMatrix(storage: info.dtype == .BF16 ? .bf16 : .f16, rows: rows, cols: cols, values: bytes)
            } else {
                dense[spec.key] = try handle.floatTensor(spec.key)
            }
        }
        if let extra = locations.keys.sorted().first(where: { !expected.contains($0) }) {
            throw ModelError.unexpectedTensor(name: extra, file: locations[extra] ?? locationSummary)
        }
        return (dense, typed)
    }

    /// A quantized matrix: values (I8 [rows, cols] for q8_0, U8 [rows, cols/2] for q4_0) and F16
    /// scales [rows, cols/32] under "<name>.scales", checked against the shape the config implies.
    private func readQuantized(_ spec: ParameterSpec, type: WeightStorage, file: String, handle: SafeTensorsFile,
                               info: SafeTensorInfo) throws -> TypedMatrix {
        let (rows, cols) = (spec.shape[0], spec.shape[1])
        func bad(_ problem: String) -> ModelError {
            .corruptSafetensors(file: file, problem: "quantized tensor \"\(spec.key)\" (\(type.rawValue), config shape \(spec.shape)): \(problem)")
        }
        guard cols % WeightStorage.blockSize == 0 else {
            throw bad("\(cols) columns are not whole blocks of \(WeightStorage.blockSize)")
        }
        let (dtype, shape) = CheckpointQuantization.valueLayout(type, rows: rows, cols: cols)
        guard info.dtype == dtype, info.shape == shape else {
            throw bad("values are \(info.dtype.rawValue) \(info.shape) but \(type.rawValue) blocks of this shape are \(dtype.rawValue) \(shape)")
        }
        let scaleKey = spec.key + CheckpointQuantization.scaleSuffix
        guard let scaleFile = locations[scaleKey], let scaleHandle = files[scaleFile], let scaleInfo = scaleHandle.tensors[scaleKey] else {
            throw bad("its scales \"\(scaleKey)\" are missing")
        }
        let scaleShape = [rows, cols / WeightStorage.blockSize]
        guard scaleInfo.dtype == .F16, scaleInfo.shape == scaleShape else {
            throw bad("scales \"\(scaleKey)\" are \(scaleInfo.dtype.rawValue) \(scaleInfo.shape) but blocks of \(WeightStorage.blockSize) need F16 \(scaleShape)")
        }
        let values = handle.bytes(of: spec.key)!
        if type == .q8_0, let at = values.firstIndex(of: 0x80) {
            throw bad("value -128 at row \(at / cols), column \(at % cols) is outside q8_0's range [-127, 127]")
        }
        return TypedMatrix(storage: type, rows: rows, cols: cols, values: values, scales: scaleHandle.bytes(of: scaleKey)!)
    }
}

/// One tensor of a safetensors file to write: its dtype, shape and little-endian bytes.
public struct RawTensor {
    public var name: String
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    public var bytes: Data
}

extension SafeTensorsWriter {
    /// Writes tensors of any dtypes (sorted by name), atomically: a temporary file, then rename.
    public static func write(raw tensors: [RawTensor], metadata: [String: String] = ["format": "pt"], to url: URL) throws {
        let ordered = tensors.sorted { $0.name < $1.name }
        var header: [String: JSONValue] = ["__metadata__": .object(metadata.mapValues { .string($0) })]
        var offset = 0
        for t in ordered {
            header[t.name] = .object(["dtype": .string(t.dtype.rawValue), "shape": .array(t.shape.map { .int($0) }),
                                      "data_offsets": .array([.int(offset), .int(offset + t.bytes.count)])])
            offset += t.bytes.count
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var headerBytes = try encoder.encode(JSONValue.object(header))
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var file = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(headerBytes)
        for t in ordered { file.append(t.bytes) }
        try AtomicFile.write(file, to: url)
    }
}

extension DogeForCausalLM {
    /// How the model's matrices are held: "f32", "bf16", "q8_0" …, or "mixed (…)".
    public var weightStorage: String {
        var kinds: [WeightStorage: Int] = [:]
        forEachLinear { _, l in kinds[l.storage, default: 0] += l.outFeatures * l.inFeatures }
        kinds[model.embedTyped?.storage ?? .f32, default: 0] += config.vocabSize * config.hiddenSize
        if kinds.count == 1 { return kinds.keys.first!.rawValue }
        return "mixed (" + kinds.sorted { $0.value > $1.value }.map { "\($0.key.rawValue)" }.joined(separator: ", ") + ")"
    }

    func forEachLinear(_ body: (String, Linear) -> Void) {
        for (i, layer) in model.layers.enumerated() {
            let p = "model.layers.\(i)."
            let a = layer.selfAttention
            body(p + "self_attn.q_proj", a.qProj); body(p + "self_attn.k_proj", a.kProj); body(p + "self_attn.v_proj", a.vProj)
            body(p + "self_attn.o_proj", a.oProj); body(p + "self_attn.dt_proj", a.dtProj)
            switch layer.feedForward {
            case .mlp(let m):
                body(p + "mlp.gate_proj", m.gateProj); body(p + "mlp.up_proj", m.upProj); body(p + "mlp.down_proj", m.downProj)
            case .moe(let m):
                body(p + "mlp.gate_proj", m.shared.gateProj); body(p + "mlp.up_proj", m.shared.upProj)
                body(p + "mlp.down_proj", m.shared.downProj); body(p + "mlp.router_gate", m.routerGate)
            }
        }
        if let lmHead { body("lm_head", lmHead) }
    }

    /// Writes a quantized checkpoint: config.json (recording the type) and model.safetensors with
    /// each quantized matrix as values + F16 block scales (README, "Quantized checkpoints"); the
    /// other tensors (norms, residuals, matrices whose rows are not whole blocks) as float32.
    /// The model must have been loaded with `WeightLoading(quantize:)`. Files are written to
    /// temporary names and renamed into place.
    public func saveQuantized(to directory: URL) throws {
        var typed: [String: TypedMatrix] = [:]
        forEachLinear { key, l in if let t = l.typed { typed[key + ".weight"] = t } }
        if let e = model.embedTyped { typed["model.embed_tokens.weight"] = e }
        let types = Set(typed.values.map(\.storage))
        guard types.count == 1, let type = types.first, type.isQuantized else {
            throw ModelError.invalidInput("saveQuantized needs a model loaded with one quantized type, found \(types.map(\.rawValue).sorted())")
        }
        let parameters = namedParameters()
        var tensors: [RawTensor] = []
        for spec in config.parameterSpecs(layout: layout) {
            if let t = typed[spec.key] {
                let (dtype, shape) = CheckpointQuantization.valueLayout(type, rows: t.rows, cols: t.cols)
                tensors.append(RawTensor(name: spec.key, dtype: dtype, shape: shape, bytes: Data(t.valueBytes)))
                tensors.append(RawTensor(name: spec.key + CheckpointQuantization.scaleSuffix, dtype: .F16,
                                         shape: [t.rows, t.cols / WeightStorage.blockSize], bytes: Data(t.scaleBytes!)))
            } else {
                let t = parameters[spec.key]!
                tensors.append(RawTensor(name: spec.key, dtype: .F32, shape: t.shape, bytes: t.data.withUnsafeBytes { Data($0) }))
            }
        }
        var configObject = config.jsonObject()
        configObject["quantization_config"] = CheckpointQuantization.record(type)
        configObject["torch_dtype"] = .string("float32")
        configObject["dtype"] = .string("float32")
        try SafeTensorsWriter.write(raw: tensors, metadata: ["format": "pt", "swift-doge-quantization": type.rawValue],
                                    to: directory.appendingPathComponent("model.safetensors"))
        try AtomicFile.write(JSONValue.encodeObject(configObject), to: directory.appendingPathComponent("config.json"))
    }
}

extension DogeForCausalLM {
    /// A copy whose matrices (Linear weights and the embeddings) are held as `storage`: BF16/F16
    /// rounded to nearest even, or quantized (matrices whose rows are not whole blocks of 32
    /// stay float32). Benchmarks use it on random models; checkpoints load typed directly.
    public func holdingMatrices(as storage: WeightStorage) -> DogeForCausalLM {
        let parameters = namedParameters()
        var dense: [String: Tensor] = [:], typed: [String: TypedMatrix] = [:]
        for spec in config.parameterSpecs(layout: layout) {
            let t = parameters[spec.key]!
            if storage != .f32, spec.mayBeTyped, TypedMatrix.canStore(cols: spec.shape[1], as: storage) {
                typed[spec.key] = t.data.withUnsafeBufferPointer {
                    TypedMatrix(converting: $0, rows: spec.shape[0], cols: spec.shape[1], to: storage)
                }
            } else {
                dense[spec.key] = t
            }
        }
        return DogeForCausalLM(config: config, layout: layout, weights: dense, typed: typed)
    }
}
