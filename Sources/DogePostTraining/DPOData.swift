import Foundation
import DogeJinja
import DogeTokenizers

/// One tokenized preference pair (TRL 1.16 DPOTrainer): the shared prompt ids and the two completions.
public struct PreferencePair: Sendable, Equatable {
    public var prompt: [Int]
    public var chosen: [Int]
    public var rejected: [Int]
}

public enum DPOData {
    /// Tokenizes rows: an implicit prompt is extracted from chosen/rejected as TRL's
    /// `extract_prompt` does; text rows get EOS appended; prompt+completion are tokenized whole and
    /// the completion is what follows the common prefix with the prompt. Rows whose prompt alone
    /// fills max_length are dropped (counted).
    public static func pairs(rows: [DataRow], tokenizer: Tokenizer, maxLength: Int?) throws -> (pairs: [PreferencePair], dropped: Int) {
        guard let eos = tokenizer.eosToken else {
            throw PostTrainingError.data("the tokenizer defines no eos_token, which DPO appends to text completions")
        }
        var out: [PreferencePair] = [], dropped = 0
        for row in rows {
            var chosen = try row.turns("chosen"), rejected = try row.turns("rejected")
            var prompt: Turns
            if row["prompt"] != nil {
                prompt = try row.turns("prompt")
            } else {
                (prompt, chosen, rejected) = try extractPrompt(chosen, rejected, row: row)
            }
            if sameContent(chosen, rejected) {
                throw row.error("rejected", "identical to \"chosen\": a preference pair needs two different completions")
            }
            let p: [Int], pc: [Int], pr: [Int]
            switch (prompt, chosen, rejected) {
            case let (.messages(pm), .messages(cm), .messages(rm)):
                let tools = row.tools
                p = try SFTData.render(tokenizer, pm, tools: tools, generationPrompt: true, row: row, field: "prompt")
                pc = try SFTData.render(tokenizer, pm + cm, tools: tools, generationPrompt: false, row: row, field: "chosen")
                pr = try SFTData.render(tokenizer, pm + rm, tools: tools, generationPrompt: false, row: row, field: "rejected")
            case let (.text(ps), .text(cs), .text(rs)):
                p = tokenizer.encode(ps)
                pc = tokenizer.encode(ps + (cs.hasSuffix(eos) ? cs : cs + eos))
                pr = tokenizer.encode(ps + (rs.hasSuffix(eos) ? rs : rs + eos))
            default:
                throw row.error("chosen", "prompt, chosen and rejected must all be strings or all be message lists")
            }
            let n = min(commonPrefix(p, pc), commonPrefix(p, pr))
            if let L = maxLength, n >= L { dropped += 1; continue }
            out.append(PreferencePair(prompt: Array(p.prefix(n)), chosen: Array(pc.dropFirst(n)), rejected: Array(pr.dropFirst(n))))
        }
        return (out, dropped)
    }

    static func commonPrefix(_ a: [Int], _ b: [Int]) -> Int {
        var i = 0
        while i < min(a.count, b.count) && a[i] == b[i] { i += 1 }
        return i
    }

    static func sameContent(_ a: Turns, _ b: Turns) -> Bool {
        switch (a, b) {
        case let (.text(x), .text(y)): return x == y
        case let (.messages(x), .messages(y)): return x == y
        default: return false
        }
    }

    /// TRL's `extract_prompt`: the longest common prefix of turns (or characters, keeping a
    /// separating space with the completions).
    static func extractPrompt(_ chosen: Turns, _ rejected: Turns, row: DataRow) throws -> (Turns, Turns, Turns) {
        switch (chosen, rejected) {
        case let (.messages(c), .messages(r)):
            var idx = 0
            for i in 0..<min(c.count, r.count) { idx = i; if c[i] != r[i] { break } }
            return (.messages(Array(c[..<idx])), .messages(Array(c[idx...])), .messages(Array(r[idx...])))
        case let (.text(cs), .text(rs)):
            let c = Array(cs), r = Array(rs)
            var idx = 0
            for i in 0..<min(c.count, r.count) {
                idx = i
                if c[i] != r[i] { if i > 0 && c[i - 1] == " " { idx = i - 1 }; break }
            }
            return (.text(String(c[..<idx])), .text(String(c[idx...])), .text(String(r[idx...])))
        default:
            throw row.error("rejected", "chosen and rejected must both be strings or both be message lists")
        }
    }
}
