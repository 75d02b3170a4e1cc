import Foundation
import Testing
import DogeModel
@testable import DogeGeneration

@Suite struct SamplingTests {
    // Expected values computed with transformers' logits processors on the same inputs.
    @Test func repetitionPenaltyDividesPositiveMultipliesNegative() {
        var s: [Float] = [2, -2, 1, 0.5]
        LogitsProcessors.repetitionPenalty(&s, sequence: [0, 1, 1], penalty: 2)
        #expect(s == [1, -4, 1, 0.5])
    }

    @Test func topKKeepsTiesAtTheCutoff() {
        var s: [Float] = [1, 3, 3, 2, 0]
        LogitsProcessors.topK(&s, 2)
        #expect(s == [-.infinity, 3, 3, -.infinity, -.infinity])
        var t: [Float] = [1, 3, 2, 0]
        LogitsProcessors.topK(&t, 3)
        #expect(t == [1, 3, 2, -.infinity])
    }

    @Test func topPKeepsTheSmallestSetAboveP() {
        // probabilities ≈ [0.6364, 0.2341, 0.0861, 0.0433]
        var s: [Float] = [3, 2, 1, 0.3]
        LogitsProcessors.topP(&s, 0.8)
        #expect(s == [3, 2, -.infinity, -.infinity])
        var one: [Float] = [3, 2, 1, 0.3]
        LogitsProcessors.topP(&one, 0.1)
        #expect(one == [3, -.infinity, -.infinity, -.infinity])
    }

    @Test func minPIsRelativeToTheTopProbability() {
        var s: [Float] = [3, 2, 1, 0.3]
        LogitsProcessors.minP(&s, 0.3)      // keeps p ≥ 0.3·0.636 = 0.19
        #expect(s == [3, 2, -.infinity, -.infinity])
    }

    @Test func seededSamplingIsReproducibleAndRespectsFilters() {
        var config = GenerationConfig()
        config.doSample = true
        config.topK = 2
        config.seed = 42
        let logits: [Float] = [0, 5, 4.9, 1, 0]
        var a = TokenSampler(config: config), b = TokenSampler(config: config)
        let xs = (0..<200).map { _ in a.next(logits, sequence: [], generated: 0) }
        let ys = (0..<200).map { _ in b.next(logits, sequence: [], generated: 0) }
        #expect(xs == ys)
        #expect(Set(xs) == [1, 2])
    }

    /// Scores that overflow to +inf (a temperature of 1e-45) sample their limit, the greedy token, not
    /// token 0 through a NaN softmax.
    @Test func overflowingTemperatureSamplesTheGreedyToken() {
        var config = GenerationConfig()
        config.doSample = true
        config.temperature = .leastNonzeroMagnitude   // 1.4e-45: every positive score overflows
        config.seed = 7
        let logits: [Float] = [0.5, 3, 4.25, -2, 4]
        var sampler = TokenSampler(config: config)
        let picks = Set((0..<50).map { _ in sampler.next(logits, sequence: [], generated: 0) })
        #expect(picks == [2])
    }

    @Test func invalidSettingsAreNamed() {
        func check(_ change: (inout GenerationConfig) -> Void, _ name: String) {
            var c = GenerationConfig()
            c.doSample = true
            change(&c)
            #expect(throws: GenerationError.self) { try c.validate() }
            do { try c.validate() } catch { #expect("\(error)".contains(name)) }
        }
        check({ $0.temperature = -1 }, "temperature")
        check({ $0.topP = 0 }, "top_p")
        check({ $0.topP = 1.5 }, "top_p")
        check({ $0.topK = -1 }, "top_k")
        check({ $0.minP = 2 }, "min_p")
        check({ $0.repetitionPenalty = 0 }, "repetition_penalty")
    }

    @Test func emptyAndOverlongPromptsAreErrors() throws {
        let model = try DogeForCausalLM(directory: GenerationFixtures.directory.appendingPathComponent("dense"))
        let generator = TokenGenerator(model: model)
        #expect(throws: GenerationError.emptyPrompt) { try generator.generate(prompts: [[]], config: .greedy(maxNewTokens: 1)) }
        let tooLong = Array(repeating: 1, count: generator.maxPromptTokens + 1)
        #expect(throws: GenerationError.self) { try generator.generate(prompts: [tooLong], config: .greedy(maxNewTokens: 1)) }
    }
}
