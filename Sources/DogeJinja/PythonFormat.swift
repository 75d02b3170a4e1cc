import Foundation

/// Python's `str()` / `repr()` of values, which is what jinja2 prints.
extension JinjaValue {
    /// Nesting depth of containers (namespaces included), counted no further than `limit + 1`.
    /// Each namespace is visited once, so shared or cyclic namespaces cost nothing extra.
    func nestingDepth(limit: Int) -> Int {
        var seen = Set<ObjectIdentifier>()
        return nestingDepth(limit: limit, seen: &seen)
    }

    private func nestingDepth(limit: Int, seen: inout Set<ObjectIdentifier>) -> Int {
        guard limit >= 0 else { return 1 }
        var deepest = 0
        switch self {
        case .array(let a):
            for v in a { deepest = max(deepest, v.nestingDepth(limit: limit - 1, seen: &seen)) }
            return 1 + deepest
        case .object(let o):
            for v in o.values { deepest = max(deepest, v.nestingDepth(limit: limit - 1, seen: &seen)) }
            return 1 + deepest
        case .opaque(let op):
            guard case .namespace(let ns) = op.kind, seen.insert(ObjectIdentifier(ns)).inserted else { return 0 }
            return JinjaValue.object(ns.attributes).nestingDepth(limit: limit, seen: &seen)
        default:
            return 0
        }
    }

    /// `str(value)` as Python prints it (`{{ value }}`, `|string`, `~`); undefined prints as "".
    public var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        case .opaque(let o):
            if case .markup(let s) = o.kind { return s }
            fallthrough
        default:
            var out = ""
            appendRepr(to: &out)
            return out
        }
    }

    /// `repr(value)`: strings quoted, containers recursive.
    var pythonRepr: String {
        var out = ""
        appendRepr(to: &out)
        return out
    }

    func appendRepr(to out: inout String) {
        var active = Set<ObjectIdentifier>()
        appendRepr(to: &out, active: &active)
    }

    /// `active` holds the namespaces being printed: a namespace can contain itself, and Python
    /// prints the inner occurrence as `{...}`.
    private func appendRepr(to out: inout String, active: inout Set<ObjectIdentifier>) {
        switch self {
        case .undefined: out += ""
        case .null: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let i): out += String(i)
        case .double(let d): out += pythonFloatRepr(d)
        case .string(let s): appendPythonStringRepr(s, to: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += ", " }
                v.appendRepr(to: &out, active: &active)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, (k, v)) in o.entries.enumerated() {
                if i > 0 { out += ", " }
                k.appendRepr(to: &out, active: &active)
                out += ": "
                v.appendRepr(to: &out, active: &active)
            }
            out += "}"
        case .opaque(let o):
            switch o.kind {
            case .namespace(let ns):
                guard active.insert(ObjectIdentifier(ns)).inserted else {
                    out += "<Namespace {...}>"
                    return
                }
                out += "<Namespace "
                JinjaValue.object(ns.attributes).appendRepr(to: &out, active: &active)
                out += ">"
                active.remove(ObjectIdentifier(ns))
            case .function(let f): out += "<built-in function \(f.name)>"
            case .macro(let m): out += "<Macro '\(m.name)'>"
            case .loop: out += "<LoopContext>"
            case .iterator: out += "<generator object>"
            case .markup(let s):
                out += "Markup("
                appendPythonStringRepr(s, to: &out)
                out += ")"
            }
        }
    }
}

/// Python `repr(float)`: shortest round-trip digits, exponent form when exp < -4 or >= 16.
func pythonFloatRepr(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description already yields the shortest round-trip digits; re-layout them.
    let desc = "\(abs(d))"
    var mantissa = desc
    var exp10 = 0
    if let e = desc.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        mantissa = String(desc[..<e])
        exp10 = Int(desc[desc.index(after: e)...]) ?? 0
    }
    let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
    let intPart = String(parts[0])
    let fracPart = parts.count > 1 ? String(parts[1]) : ""
    var digits = intPart + fracPart
    var pointPos = intPart.count + exp10  // decimal point position within digits
    // Normalise: strip leading zeros (adjusting point) and trailing zeros.
    while digits.count > 1 && digits.hasPrefix("0") {
        digits.removeFirst()
        pointPos -= 1
    }
    while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
    let exponent = pointPos - 1  // scientific exponent
    let sign = d < 0 ? "-" : ""
    if exponent < -4 || exponent >= 16 {
        var m = String(digits.first!)
        if digits.count > 1 { m += "." + digits.dropFirst() }
        let e = exponent < 0 ? "-" + pad2(-exponent) : "+" + pad2(exponent)
        return sign + m + "e" + e
    }
    if pointPos <= 0 {
        return sign + "0." + String(repeating: "0", count: -pointPos) + digits
    }
    if pointPos >= digits.count {
        return sign + digits + String(repeating: "0", count: pointPos - digits.count) + ".0"
    }
    let idx = digits.index(digits.startIndex, offsetBy: pointPos)
    return sign + digits[..<idx] + "." + digits[idx...]
}

private func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

/// Python `repr(str)`: single quotes unless the text has `'` and no `"`.
func appendPythonStringRepr(_ s: String, to out: inout String) {
    let quote: Character = (s.contains("'") && !s.contains("\"")) ? "\"" : "'"
    out.append(quote)
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if Character(scalar) == quote {
                out += "\\" + String(quote)
            } else if isPythonPrintable(scalar) {
                out.unicodeScalars.append(scalar)
            } else if scalar.value < 0x100 {
                out += "\\x" + hex(scalar.value, width: 2)
            } else if scalar.value < 0x10000 {
                out += "\\u" + hex(scalar.value, width: 4)
            } else {
                out += "\\U" + hex(scalar.value, width: 8)
            }
        }
    }
    out.append(quote)
}

func hex(_ v: UInt32, width: Int) -> String {
    let h = String(v, radix: 16)
    return String(repeating: "0", count: max(0, width - h.count)) + h
}

/// Python's `str.isprintable` for one code point: not in Cc, Cf, Cs, Co, Cn, Zl, Zp, or Zs other than space.
func isPythonPrintable(_ s: Unicode.Scalar) -> Bool {
    if s == " " { return true }
    switch s.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned,
        .lineSeparator, .paragraphSeparator, .spaceSeparator:
        return false
    default:
        return true
    }
}

/// Python's `str.isspace` for one code point (the set `str.split()`/`strip()` use).
func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        return true
    default:
        return false
    }
}
