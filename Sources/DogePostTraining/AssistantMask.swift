import Foundation
import DogeJinja
import DogeTokenizers

/// transformers' `return_assistant_tokens_mask`: the tokens rendered inside the chat template's
/// `{% generation %}…{% endgeneration %}` blocks. The template is rendered with marker characters
/// emitted just inside each block (whitespace control unchanged), the text is cut at the markers,
/// and each piece is tokenized; the pieces' tokens must concatenate to the tokens of the whole
/// text (otherwise a token straddles a block edge and the row is refused, naming it).
enum AssistantMask {
    static let open = "\u{F8F0}", close = "\u{F8F1}"

    /// The template with markers, or nil when it has no generation block.
    static func markedTemplate(_ source: String) -> String? {
        // A block tag outputs nothing, so the output position right after `{% generation %}` and
        // `{% endgeneration %}` is the block's edge. Markers go after the tag and after the newline
        // that trim_blocks removes, with the tag's own `-%}` stripping repeated.
        let start = try! NSRegularExpression(pattern: #"\{%(-?)\s*generation\s*(-?)%\}(\n?)"#)
        let end = try! NSRegularExpression(pattern: #"\{%(-?)\s*endgeneration\s*(-?)%\}(\n?)"#)
        let range = NSRange(source.startIndex..., in: source)
        guard start.firstMatch(in: source, range: range) != nil, end.firstMatch(in: source, range: range) != nil else { return nil }
        var s = start.stringByReplacingMatches(in: source, range: range, withTemplate: "{%$1 generation $2%}$3{{ '\(open)' $2}}")
        s = end.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "{%$1 endgeneration $2%}$3{{ '\(close)' $2}}")
        return s
    }

    static func encode(_ tokenizer: Tokenizer, template: String, messages: [JinjaValue], tools: [JinjaValue]?,
                       row: DataRow, field: String) throws -> ([Int], [Bool]) {
        let text: String
        do {
            text = try Tokenizer.renderChat(source: template, specialTokens: tokenizer.specialTokenVariables, messages: messages, tools: tools)
        } catch { throw row.error(field, "the chat template failed: \(error)") }
        var pieces: [(String, Bool)] = []
        var current = "", inside = false
        for ch in text {
            let c = String(ch)
            if c == open || c == close {
                pieces.append((current, inside)); current = ""; inside = c == open
            } else {
                current.append(ch)
            }
        }
        pieces.append((current, inside))
        var ids: [Int] = [], mask: [Bool] = []
        for (piece, assistant) in pieces where !piece.isEmpty {
            let p = tokenizer.encode(piece, addSpecialTokens: false)
            ids += p
            mask += Array(repeating: assistant, count: p.count)
        }
        let whole = tokenizer.encode(pieces.map(\.0).joined(), addSpecialTokens: false)
        guard whole == ids else {
            throw row.error(field, "a token spans the edge of a {% generation %} block, so the assistant mask is ambiguous; end the block on a token boundary")
        }
        return (ids, mask)
    }
}
