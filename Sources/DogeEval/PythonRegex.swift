import Foundation

/// Python's `re.sub` on top of ICU regular expressions, for lm-eval's `regex_replace` filter and
/// task templates: Python's replacement syntax (`\1`, `\g<1>`, `\g<name>`) and its literal `{`
/// (a brace that does not form a quantifier) are translated; patterns are otherwise the same.
enum PythonRegex {
    static func sub(pattern: String, replacement: String, in text: String, count: Int = 0) throws -> String {
        let regex: NSRegularExpression
        do { regex = try NSRegularExpression(pattern: translate(pattern)) } catch {
            throw EvalError(.template, "regex_replace: invalid regular expression \(pattern.debugDescription)")
        }
        let template = translateReplacement(replacement)
        let ns = text as NSString
        let matches = regex.matches(in: text, range: NSRange(location: 0, length: ns.length))
        var out = ""
        var last = 0
        for (i, match) in matches.enumerated() {
            if count > 0 && i >= count { break }
            out += ns.substring(with: NSRange(location: last, length: match.range.location - last))
            out += regex.replacementString(for: match, in: text, offset: 0, template: template)
            last = match.range.location + match.range.length
        }
        out += ns.substring(from: last)
        return out
    }

    /// Escapes `{` and `}` that Python reads as literals (not `{m}`, `{m,}`, `{,n}`, `{m,n}`).
    static func translate(_ pattern: String) -> String {
        let chars = Array(pattern)
        var out = ""
        var i = 0
        var inClass = false
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count { out.append(c); out.append(chars[i + 1]); i += 2; continue }
            if inClass { if c == "]" { inClass = false }; out.append(c); i += 1; continue }
            if c == "[" { inClass = true; out.append(c); i += 1; if i < chars.count, chars[i] == "^" { out.append("^"); i += 1 }; if i < chars.count, chars[i] == "]" { out.append("\\]"); i += 1 }; continue }
            if c == "{" {
                var j = i + 1
                while j < chars.count, chars[j].isASCII, chars[j].isNumber || chars[j] == "," { j += 1 }
                let body = String(chars[(i + 1)..<min(j, chars.count)])
                let isQuantifier = j < chars.count && chars[j] == "}" && !body.isEmpty && body != "," && !out.isEmpty
                if isQuantifier { out += "{" + (body.hasPrefix(",") ? "0" + body : body) + "}"; i = j + 1; continue }
                out += "\\{"; i += 1; continue
            }
            if c == "}" { out += "\\}"; i += 1; continue }
            out.append(c); i += 1
        }
        return out
    }

    /// Python replacement → ICU template: groups become `$n`, `$` and `\` are escaped.
    static func translateReplacement(_ repl: String) -> String {
        let chars = Array(repl)
        var out = ""
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "$" { out += "\\$"; i += 1; continue }
            guard c == "\\", i + 1 < chars.count else { out += c == "\\" ? "\\\\" : String(c); i += 1; continue }
            let e = chars[i + 1]
            if e.isASCII, e.isNumber {
                var j = i + 1
                var digits = ""
                while j < chars.count, chars[j].isASCII, chars[j].isNumber, digits.count < 2 { digits.append(chars[j]); j += 1 }
                out += "$" + digits; i = j; continue
            }
            if e == "g", i + 2 < chars.count, chars[i + 2] == "<", let close = chars[(i + 3)...].firstIndex(of: ">") {
                let name = String(chars[(i + 3)..<close])
                out += Int(name) != nil ? "$" + name : "${" + name + "}"
                i = close + 1; continue
            }
            switch e {
            case "n": out += "\n"
            case "t": out += "\t"
            case "r": out += "\r"
            case "\\": out += "\\\\"
            default: out += "\\\\" + String(e)
            }
            i += 2
        }
        return out
    }
}
