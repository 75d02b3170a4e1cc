import Foundation
import Testing
import DogeModel
import DogeTokenizers
@testable import DogeGeneration

/// The bundled model (Models/doge-tiny, BF16 weights) computes what transformers computes with
/// it: the same prompt ids, the same greedy tokens, the same logits
/// (reference: scripts/doge-tiny/make_reference.py).
@Suite struct BundledModelTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelDirectory = root.appendingPathComponent("Models/doge-tiny")

    struct Reference: Decodable {
        struct Case: Decodable {
            var text: String
            var prompt_ids: [Int]
            var generated_ids: [Int]
            var top_logits: [[[Double]]]   // per step: [id, logit] for the 8 largest
        }
        var new_tokens: Int
        var cases: [Case]
    }

    @Test func greedyTokensAndLogitsMatchTransformers() throws {
        let url = Self.root.appendingPathComponent("Tests/DogeGenerationTests/Fixtures/doge-tiny-reference.json")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        let generator = try TextGenerator(directory: Self.modelDirectory)
        var worst: Float = 0
        for c in reference.cases {
            #expect(generator.tokenizer.encode(c.text) == c.prompt_ids, "\(c.text)")
            var greedy = GenerationConfig.greedy(maxNewTokens: reference.new_tokens)
            greedy.eosTokenIds = generator.defaults.eosTokenIds   // from the model's generation_config.json
            let result = try generator.generate(.text(c.text), config: greedy)
            #expect(result.tokenIds == c.generated_ids, "\(c.text)")
            // Step s scored the token after prompt + generated[..<s]: one forward over the whole text.
            let all = c.prompt_ids + c.generated_ids.dropLast()
            let logits = try generator.model.logits(ids: [all])
            let vocab = generator.model.config.vocabSize
            for (s, top) in c.top_logits.enumerated() {
                let row = (c.prompt_ids.count - 1 + s) * vocab
                for pair in top {
                    worst = max(worst, abs(logits.data[row + Int(pair[0])] - Float(pair[1])))
                }
            }
        }
        // Measured: 1.05e-5 with doge-tiny v2 (v1: 7.6e-6; float32 on both sides, the order of sums differs).
        print("doge-tiny vs transformers: largest logit difference \(worst)")
        #expect(worst < 1e-4, "largest logit difference \(worst)")
    }

    @Test func itIsTheDefaultModel() throws {
        let config = try DogeConfiguration.load(from: Self.modelDirectory.appendingPathComponent("config.json"))
        #expect(config.vocabSize == 4096)
        let size = try FileManager.default.attributesOfItem(atPath: Self.modelDirectory.appendingPathComponent("model.safetensors").path)[.size] as! Int
        #expect(size < 25_000_000)
    }
}
