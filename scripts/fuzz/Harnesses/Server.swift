import DogeGeneration
import DogeModel
@testable import DogeServer
import DogeTokenizers
import Foundation

/// What `doge serve --parallel 4` checks requests against for the bundled model: its
/// generation defaults, context and vocabulary (computed once).
let serverLimits: RequestLimits = {
    let directory = URL(fileURLWithPath: "Models/doge-tiny")
    do {
        let config = try DogeConfiguration.load(from: directory.appendingPathComponent("config.json"))
        return RequestLimits(defaults: try GenerationConfig.defaults(forModelAt: directory, config: config), slots: 4,
                             vocabSize: config.vocabSize, maxPromptTokens: config.maxPositionEmbeddings,
                             maxTokenBytes: bundledTokenizer.maxTokenBytes)
    } catch {
        fatalError("run from the repository root: \(error)")
    }
}()

/// A request body as `POST /v1/chat/completions` and `POST /v1/completions` decode it: JSON →
/// parameters → messages through the bundled chat template (or prompts) → token ids. Errors are
/// answers; what is accepted must be what the engine can run.
func fuzzServerRequest(_ data: Data) {
    let body = [UInt8](data)
    for chat in [true, false] {
        guard let request = try? CompletionRequest(body: body, chat: chat, tokenizer: bundledTokenizer, limits: serverLimits) else {
            continue
        }
        let s = request.sampling
        precondition((1...serverLimits.slots).contains(s.n), "n \(s.n) accepted")
        precondition(s.configs.count == s.n)
        precondition((try? s.config.validate()) != nil, "an invalid generation config was accepted")
        precondition(s.config.maxNewTokens >= 1 && s.config.stopStrings.count <= 16 && !s.config.stopStrings.contains(""))
        precondition(!request.prompts.isEmpty)
        for p in request.prompts {
            precondition(!p.ids.isEmpty && p.ids.count <= serverLimits.maxPromptTokens, "a prompt of \(p.ids.count) tokens accepted")
            precondition(p.ids.allSatisfy { (0..<serverLimits.vocabSize).contains($0) }, "a token id outside the vocabulary accepted")
        }
        if let top = request.topLogprobs { precondition((0...20).contains(top)) }
        precondition(!(request.echo && request.topLogprobs != nil))
    }
}
