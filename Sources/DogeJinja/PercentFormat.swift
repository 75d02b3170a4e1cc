import Foundation

extension PyString {
    /// Python `format % args` for the common conversions: `%s %r %d %i %f %e %g %x %o %c %%`,
    /// with flags (`-+ 0#`), width and precision. Widths and precisions over `maxBytes` are refused.
    static func percentFormat(_ format: String, _ args: [JinjaValue], maxBytes: Int = 16 << 20) throws -> String {
        var out = ""
        var argIndex = 0
        let scalars = Array(format.unicodeScalars)
        var i = 0
        func nextArg() throws -> JinjaValue {
            guard argIndex < args.count else { throw TemplateError(.type, "not enough arguments for format string") }
            defer { argIndex += 1 }
            return args[argIndex]
        }
        while i < scalars.count {
            let c = scalars[i]
            i += 1
            guard c == "%" else { out.unicodeScalars.append(c); continue }
            var flags = "", width = "", precision: String? = nil
            while i < scalars.count, "-+ 0#".unicodeScalars.contains(scalars[i]) { flags.unicodeScalars.append(scalars[i]); i += 1 }
            while i < scalars.count, ("0"..."9").contains(scalars[i]) { width.unicodeScalars.append(scalars[i]); i += 1 }
            if i < scalars.count, scalars[i] == "." {
                i += 1
                var p = ""
                while i < scalars.count, ("0"..."9").contains(scalars[i]) { p.unicodeScalars.append(scalars[i]); i += 1 }
                precision = p
            }
            guard i < scalars.count else { throw TemplateError(.type, "incomplete format") }
            for field in [width, precision ?? ""] where field.count > 9 || (Int(field) ?? 0) > maxBytes {
                throw TemplateError(.limitExceeded, "format width or precision \(field) exceeds the output limit of \(maxBytes) bytes")
            }
            let conv = scalars[i]
            i += 1
            var body: String
            switch conv {
            case "%": out += "%"; continue
            case "s": body = try nextArg().pythonString
                if let p = precision, let n = Int(p) { body = String(String.UnicodeScalarView(body.unicodeScalars.prefix(n))) }
            case "r": body = try nextArg().pythonRepr
            case "d", "i", "x", "X", "o", "c":
                let v = try nextArg()
                guard let d = v.asDouble else { throw TemplateError(.type, "%\(conv) format: a real number is required, not \(v.typeName)") }
                guard d.isFinite, let n = Int(exactly: d.rounded(.towardZero)) else {
                    throw TemplateError(.type, "%\(conv) format: \(v.pythonRepr) is out of range")
                }
                switch conv {
                case "x": body = String(n, radix: 16)
                case "X": body = String(n, radix: 16).uppercased()
                case "o": body = String(n, radix: 8)
                case "c":
                    guard (0...0x10FFFF).contains(n) else { throw TemplateError(.type, "%c arg not in range(0x110000)") }
                    body = Unicode.Scalar(UInt32(n)).map { String($0) } ?? ""
                default: body = String(n)
                }
            case "f", "F", "e", "E", "g", "G":
                let v = try nextArg()
                guard let d = v.asDouble else { throw TemplateError(.type, "must be real number, not \(v.typeName)") }
                body = String(format: "%.\(precision ?? "6")\(conv)", d)
            default:
                throw TemplateError(.type, "unsupported format character '\(conv)'")
            }
            if flags.contains("+"), !body.hasPrefix("-"), "dfieEgG".unicodeScalars.contains(conv) { body = "+" + body }
            if let w = Int(width), body.unicodeScalars.count < w {
                let pad = w - body.unicodeScalars.count
                if flags.contains("-") {
                    body += String(repeating: " ", count: pad)
                } else if flags.contains("0"), conv != "s", conv != "r" {
                    let sign = body.hasPrefix("-") || body.hasPrefix("+") ? String(body.removeFirst()) : ""
                    body = sign + String(repeating: "0", count: pad) + body
                } else {
                    body = String(repeating: " ", count: pad) + body
                }
            }
            out += body
        }
        if argIndex < args.count { throw TemplateError(.type, "not all arguments converted during string formatting") }
        return out
    }
}
