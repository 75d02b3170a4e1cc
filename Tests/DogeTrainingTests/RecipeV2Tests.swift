import Foundation
import Testing
@testable import DogeTraining

/// doge-tiny v2's recipe (issue 17): v1's model and tokenizer, corpus v2, longer blocks.
@Suite struct RecipeV2Tests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    static func options(_ name: String) throws -> TrainingOptions {
        try TrainingOptions.from(try TrainingOptions.load(recipe: root.appendingPathComponent("Models/doge-tiny/\(name)")))
    }

    @Test func v2RecipeParsesAndKeepsV1sModel() throws {
        let v1 = try Self.options("recipe.yaml"), v2 = try Self.options("recipe-v2.yaml")
        let root = Self.root.path
        #expect(v2.datasets.map(\.path) == [root + "/corpus-v2/train.jsonl"] && v2.evalDatasets == [root + "/corpus-v2/eval.jsonl"])
        #expect(v2.outputDirectory == root + "/runs/doge-tiny-v2" && v2.tokenizerPath == root + "/Models/doge-tiny")
        // Same shape and tokenizer as v1 (v2 replaces v1's weights in the same folder), blocks four times longer.
        #expect(v2.modelInit != nil && v2.modelInit == v1.modelInit)
        #expect(v2.maxLength == 1024 && v1.maxLength == 256)
        // The same 4,096 tokens per optimizer step as v1, and a schedule that fits max_steps.
        #expect(v2.maxLength * v2.batchSize * v2.gradientAccumulationSteps == v1.maxLength * v1.batchSize * v1.gradientAccumulationSteps)
        _ = try v2.schedule(totalSteps: v2.maxSteps)
        #expect(v2.maxSteps == 3000 && v2.seed == 233)
    }
}
