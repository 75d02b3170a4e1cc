import DogeGeneration
import DogeJSON
import DogeModel
import DogeTokenizers
import Foundation

/// A model and its tokenizer, encoding and scoring as lm-eval's HF backend does.
public final class EvalModel: @unchecked Sendable {
    public let directory: URL
    public let model: DogeForCausalLM
    public let tokenizer: Tokenizer
    public let scorer: LoglikelihoodScorer
    /// lm-eval's `max_length`: max_position_embeddings (2048 when absent).
    public let maxLength: Int
    /// lm-eval's `prefix_token_id`: BOS, else EOS.
    public let prefixToken: Int
    /// The last context encoded: a question's choices share it.
    private var lastContext: (text: String, tokens: [Int])?

    public init(directory: URL, batchSize: Int = 32) throws {
        self.directory = directory
        do {
            model = try DogeForCausalLM(directory: directory)
            tokenizer = try Tokenizer(directory: directory)
        } catch {
            throw EvalError(.model, "cannot load the model in \(directory.path): \(error)")
        }
        maxLength = model.config.maxPositionEmbeddings
        guard let prefix = tokenizer.bosTokenID ?? tokenizer.eosTokenID else {
            throw EvalError(.model, "\(directory.path): the tokenizer has neither a BOS nor an EOS token to condition empty contexts on")
        }
        prefixToken = prefix
        scorer = LoglikelihoodScorer(model: model, maxLength: maxLength, batchSize: batchSize)
    }

    /// `tok_encode`: the tokenizer's defaults (its post-processor may add BOS), unless the text
    /// already starts with the BOS token's text.
    public func encode(_ text: String) -> [Int] {
        if let bos = tokenizer.bosTokenID, let bosText = try? tokenizer.decode([bos]), !bosText.isEmpty, text.hasPrefix(bosText) {
            return tokenizer.encode(text, addSpecialTokens: false)
        }
        return tokenizer.encode(text)
    }

    /// lm-eval's `loglikelihood` tokenization: the empty-context rule, else `_encode_pair`
    /// (trailing whitespace of the context moves to the continuation; continuation tokens are
    /// `enc(ctx + cont)[len(enc(ctx)):]`). lighteval's `tok_encode_pair` is the same but for two
    /// edge cases: an empty context is the EOS token before `enc(cont)` (BOS included), and a
    /// continuation that merges into the context's last token makes that token the continuation.
    public func encodePair(context: String, continuation: String, style: TaskStyle = .lmEval) throws -> TokenRequest {
        if context.isEmpty && style == .lighteval {
            guard let eos = tokenizer.eosTokenID else { throw EvalError(.model, "\(directory.path): the tokenizer has no EOS token to condition an empty context on") }
            let cont = encode(continuation)
            guard !cont.isEmpty else { throw EvalError(.data, "an empty context with an empty continuation has nothing to score") }
            return TokenRequest(context: [eos], continuation: cont)
        }
        if context.isEmpty {
            let cont = tokenizer.encode(continuation, addSpecialTokens: false)
            guard let first = cont.first else { throw EvalError(.data, "an empty context with an empty continuation has nothing to score") }
            if first != prefixToken { return TokenRequest(context: [prefixToken], continuation: cont) }
            guard cont.count > 1 else { throw EvalError(.data, "the continuation \(continuation.debugDescription) is only the prefix token") }
            return TokenRequest(context: [first], continuation: Array(cont.dropFirst()))
        }
        var ctx = context.unicodeScalars[...], cont = String.UnicodeScalarView(continuation.unicodeScalars)
        var moved = String.UnicodeScalarView()
        while let last = ctx.last, Metrics.isPythonSpace(last) { moved.insert(last, at: moved.startIndex); ctx.removeLast() }
        cont.insert(contentsOf: moved, at: cont.startIndex)
        let contextText = String(String.UnicodeScalarView(ctx)), continuationText = String(cont)
        let whole = encode(contextText + continuationText)
        var contextTokens: [Int]
        if let last = lastContext, last.text == contextText { contextTokens = last.tokens } else {
            contextTokens = encode(contextText)
            lastContext = (contextText, contextTokens)
        }
        var continuationTokens = Array(whole.dropFirst(contextTokens.count))
        if style == .lighteval, contextTokens.count == whole.count, let merged = whole.last {
            contextTokens = Array(whole.dropLast())
            continuationTokens = [merged]
        }
        guard !continuationTokens.isEmpty else {
            throw EvalError(.data, "the continuation \(continuation.debugDescription) adds no tokens to its context (it merges into the context's last token)")
        }
        return TokenRequest(context: contextTokens, continuation: continuationTokens)
    }

    /// lm-eval's rolling windows for `loglikelihood_rolling`: disjoint windows of `maxLength`
    /// tokens, the first conditioned on the prefix token, each later one on the token before it.
    public func rollingWindows(_ text: String) -> [TokenRequest] {
        Self.rollingWindows(tokens: encode(text), prefixToken: prefixToken, maxLength: maxLength)
    }

    static func rollingWindows(tokens: [Int], prefixToken: Int, maxLength: Int) -> [TokenRequest] {
        guard !tokens.isEmpty else { return [] }
        var windows: [TokenRequest] = []
        let predictLength = maxLength        // max_seq_len - context_len + 1 with context_len 1
        let firstLength = min(maxLength, tokens.count)
        // First window: [prefix] + tokens[:n-1] predicting tokens[:n]; disjoint → context [prefix].
        windows.append(TokenRequest(context: [prefixToken], continuation: Array(tokens[0..<firstLength])))
        var predicted = firstLength
        while predicted < tokens.count {
            let windowPredict = min(tokens.count - predicted, predictLength)
            let end = predicted + windowPredict
            let inputStart = max(0, end - maxLength - 1)
            let input = Array(tokens[inputStart..<(end - 1)])
            let continuation = Array(tokens[(end - windowPredict)..<end])
            let context = Array(input.prefix(input.count - (continuation.count - 1)))
            windows.append(TokenRequest(context: context, continuation: continuation))
            predicted += windowPredict
        }
        return windows
    }

    /// Greedy generation as lm-eval's `generate_until` with transformers' `generate`: the
    /// prompt with BOS, left-truncated to leave room for the new tokens; the model's
    /// generation_config.json processors (a repetition penalty applies even when greedy) and its
    /// max_new_tokens, which transformers prefers over lm-eval's max_length; stops at EOS or
    /// once the text holds a stop string; the text is cut at the first stop string.
    /// `exactMaxNewTokens` (lighteval, which passes max_new_tokens itself): `maxGenToks` wins.
    public func generate(_ context: String, until: [String], maxGenToks: Int?, exactMaxNewTokens: Bool = false) throws -> String {
        let generationFile = directory.appendingPathComponent("generation_config.json")
        var config = try GenerationConfig.defaults(forModelAt: directory, config: model.config)
        var fileMaxNew: Int?
        if let data = try? Data(contentsOf: generationFile), case .object(let members)? = try? JSONNode.parse(data),
           case .int(let n)? = members.first(where: { $0.key == "max_new_tokens" })?.value {
            fileMaxNew = n
        }
        let maxGen = maxGenToks ?? 256
        config.doSample = false
        config.maxNewTokens = exactMaxNewTokens ? maxGen : fileMaxNew ?? maxGen
        var stops = until
        if let eos = tokenizer.eosTokenID, let eosText = try? tokenizer.decode([eos]), !stops.contains(eosText) { stops.append(eosText) }
        let limit = maxLength - maxGen
        guard limit > 0 else { throw EvalError(.usage, "max_gen_toks \(maxGen) leaves no room for a prompt in \(maxLength) tokens") }
        let prompt = Array(encode(context).suffix(limit))
        let generator = TokenGenerator(model: model)
        var generated: [Int] = []
        try generator.generate(prompts: [prompt], config: config) { step in
            generated.append(step.tokens[0])
            let text = (try? self.tokenizer.decode(generated, skipSpecialTokens: true)) ?? ""
            return !stops.contains { !$0.isEmpty && text.contains($0) }
        }
        var text = try tokenizer.decode(generated, skipSpecialTokens: true)
        for stop in stops where !stop.isEmpty {
            if let r = text.range(of: stop) { text = String(text[..<r.lowerBound]) }
        }
        return text
    }
}
