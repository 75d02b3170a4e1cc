import DogeJSON
import DogeModel
import DogeTraining
import Foundation

func fuzzJSON(_ data: Data) {
    _ = try? JSONNode.parse(data)
    _ = try? JSONNode.parse(data, options: JSONParseOptions(allowNonFiniteNumbers: true))
}

/// A safetensors file: header validation, then every tensor read as the loader reads weights.
func fuzzSafeTensors(_ data: Data) {
    guard let file = try? SafeTensorsFile(path: scratchFile("model.safetensors", data).path) else { return }
    for name in file.tensors.keys.sorted() {
        _ = file.bytes(of: name)
        _ = try? file.floatTensor(name)
    }
}

/// config.json → configuration → what the loader derives from it.
func fuzzConfig(_ data: Data) {
    guard let config = try? DogeConfiguration.load(from: scratchFile("config.json", data)) else { return }
    _ = config.parameterCount
    _ = config.jsonObject()
    // The tensor list is what a loader builds first; validated configs keep it small.
    _ = config.parameterSpecs(layout: .native).count
    _ = config.parameterSpecs(layout: .remoteCode).count
}

/// A recipe YAML → training options (what `doge train --config` does before building anything).
func fuzzRecipe(_ data: Data) {
    guard let values = try? TrainingOptions.load(recipe: scratchFile("recipe.yaml", data)) else { return }
    _ = try? TrainingOptions.from(values)
}
