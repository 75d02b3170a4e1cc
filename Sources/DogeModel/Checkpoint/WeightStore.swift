import Foundation

/// The tensors of a checkpoint directory: `model.safetensors`, or the shards named by
/// `model.safetensors.index.json`. Each file is memory-mapped once.
public final class WeightStore: @unchecked Sendable {
    public let directory: URL
    var files: [String: SafeTensorsFile] = [:]
    /// Tensor name → file name.
    public private(set) var locations: [String: String] = [:]

    public init(directory: URL) throws {
        self.directory = directory
        let fm = FileManager.default
        let single = directory.appendingPathComponent("model.safetensors")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        if fm.fileExists(atPath: index.path) {
            let object = try JSONValue.readObject(at: index)
            guard case .object(let map)? = object["weight_map"] else {
                throw ModelError.invalidConfig(file: index.lastPathComponent, field: "weight_map", problem: "expected an object mapping tensor names to shard files")
            }
            for (name, value) in map {
                guard case .string(let file) = value else {
                    throw ModelError.invalidConfig(file: index.lastPathComponent, field: "weight_map.\(name)", problem: "expected a shard file name")
                }
                guard !file.contains("/") else {
                    throw ModelError.invalidConfig(file: index.lastPathComponent, field: "weight_map.\(name)", problem: "shard \"\(file)\" must be a file in the model directory")
                }
                locations[name] = file
            }
            for file in Set(locations.values) {
                let url = directory.appendingPathComponent(file)
                guard fm.fileExists(atPath: url.path) else {
                    throw ModelError.noModel(directory: directory.path, detail: "shard \(file) named by model.safetensors.index.json is missing")
                }
                let opened = try SafeTensorsFile(path: url.path)
                files[file] = opened
                for name in locations.filter({ $0.value == file }).keys where opened.tensors[name] == nil {
                    throw ModelError.missingTensor(name: name, file: file)
                }
            }
        } else if fm.fileExists(atPath: single.path) {
            let opened = try SafeTensorsFile(path: single.path)
            files[single.lastPathComponent] = opened
            for name in opened.tensors.keys { locations[name] = single.lastPathComponent }
        } else {
            throw ModelError.noModel(directory: directory.path, detail: "no model.safetensors or model.safetensors.index.json")
        }
    }

    public var shapes: [String: [Int]] {
        locations.reduce(into: [:]) { result, entry in
            result[entry.key] = files[entry.value]?.tensors[entry.key]?.shape
        }
    }

    /// Loads every tensor of `specs` as float32, failing on a missing, mis-shaped or unexpected tensor.
    public func load(_ specs: [ParameterSpec], allowUnused: Set<String> = []) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for spec in specs {
            guard let file = locations[spec.key], let handle = files[file], let info = handle.tensors[spec.key] else {
                throw ModelError.missingTensor(name: spec.key, file: locationSummary)
            }
            guard info.shape == spec.shape else {
                throw ModelError.shapeMismatch(name: spec.key, file: file, expected: spec.shape, found: info.shape)
            }
            result[spec.key] = try handle.floatTensor(spec.key)
        }
        let expected = Set(specs.map(\.key)).union(allowUnused)
        if let extra = locations.keys.sorted().first(where: { !expected.contains($0) }) {
            throw ModelError.unexpectedTensor(name: extra, file: locations[extra] ?? locationSummary)
        }
        return result
    }

    var locationSummary: String {
        files.count == 1 ? files.keys.first! : "model.safetensors.index.json"
    }
}
