/// Python `str` methods with Python semantics: indices count code points, searches are
/// exact code-point matches (done on UTF-8 bytes, which is equivalent and fast).
enum PyString {
    /// Byte offset of the first occurrence of `needle` at or after byte `from`.
    static func find(_ s: String, _ needle: String, from: Int = 0) -> Int? {
        findBytes(Array(s.utf8), Array(needle.utf8), from: from)
    }

    static func findBytes(_ h: [UInt8], _ n: [UInt8], from: Int = 0) -> Int? {
        if n.isEmpty { return from <= h.count ? from : nil }
        guard h.count >= n.count, from <= h.count - n.count else { return nil }
        let first = n[0]
        var i = from
        while i <= h.count - n.count {
            if h[i] == first {
                var j = 1
                while j < n.count, h[i + j] == n[j] { j += 1 }
                if j == n.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// Code-point index of a byte offset (for `str.find`'s return value).
    static func scalarIndex(_ bytes: [UInt8], _ byteOffset: Int) -> Int {
        var n = 0
        for b in bytes[..<byteOffset] where b & 0xC0 != 0x80 { n += 1 }
        return n
    }

    static func count(_ s: String, _ sub: String) -> Int {
        let h = Array(s.utf8), n = Array(sub.utf8)
        if n.isEmpty { return s.unicodeScalars.count + 1 }
        var c = 0, i = 0
        while let p = findBytes(h, n, from: i) {
            c += 1
            i = p + n.count
        }
        return c
    }

    static func replace(_ s: String, _ old: String, _ new: String, count limit: Int = -1, maxBytes: Int = .max) throws -> String {
        if limit == 0 { return s }
        let tooLong = TemplateError(.limitExceeded, "replace() result would exceed the output limit of \(maxBytes) bytes")
        if old.isEmpty {
            // Python inserts `new` between every code point (and at both ends).
            var out = new
            var done = 1
            for sc in s.unicodeScalars {
                out.unicodeScalars.append(sc)
                if limit < 0 || done < limit {
                    out += new
                    done += 1
                    if out.utf8.count > maxBytes { throw tooLong }
                }
            }
            return out
        }
        let h = Array(s.utf8), o = Array(old.utf8), n = Array(new.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(h.count)
        var i = 0, done = 0
        while limit < 0 || done < limit, let p = findBytes(h, o, from: i) {
            out += h[i..<p]
            out += n
            i = p + o.count
            done += 1
            if out.count > maxBytes { throw tooLong }
        }
        out += h[i...]
        return String(decoding: out, as: UTF8.self)
    }

    /// `str.split(sep, maxsplit)`; `sep == nil` splits on whitespace runs and drops empty parts.
    static func split(_ s: String, _ sep: String?, maxSplit: Int = -1) throws -> [String] {
        guard let sep else {
            var parts: [String] = []
            var cur = String.UnicodeScalarView()
            var inWord = false
            var splits = 0
            var iter = s.unicodeScalars.makeIterator()
            while let c = iter.next() {
                if isPythonSpace(c) && (maxSplit < 0 || splits < maxSplit) {
                    if inWord {
                        parts.append(String(cur))
                        cur = String.UnicodeScalarView()
                        inWord = false
                        splits += 1
                    }
                } else if !inWord && isPythonSpace(c) {
                    continue  // leading whitespace of the unsplit remainder
                } else {
                    cur.append(c)
                    inWord = true
                }
            }
            if inWord { parts.append(String(cur)) }  // a maxsplit remainder keeps its whitespace
            return parts
        }
        if sep.isEmpty { throw TemplateError(.type, "empty separator") }
        let h = Array(s.utf8), n = Array(sep.utf8)
        var parts: [String] = []
        var i = 0
        while maxSplit < 0 || parts.count < maxSplit, let p = findBytes(h, n, from: i) {
            parts.append(String(decoding: h[i..<p], as: UTF8.self))
            i = p + n.count
        }
        parts.append(String(decoding: h[i...], as: UTF8.self))
        return parts
    }

    /// `str.rsplit(sep, maxsplit)`.
    static func rsplit(_ s: String, _ sep: String?, maxSplit: Int = -1) throws -> [String] {
        if maxSplit < 0 { return try split(s, sep) }
        // Reverse the problem: split the reversed string with the reversed separator.
        func rev(_ x: String) -> String { String(String.UnicodeScalarView(x.unicodeScalars.reversed())) }
        return try split(rev(s), sep.map(rev), maxSplit: maxSplit).reversed().map(rev)
    }

    /// `str.splitlines()` (line boundaries as Python defines them, separators dropped).
    static func splitlines(_ s: String) -> [String] {
        var lines: [String] = []
        var cur = String.UnicodeScalarView()
        let scalars = Array(s.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            switch c.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                lines.append(String(cur))
                cur = String.UnicodeScalarView()
                if c == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
            default:
                cur.append(c)
            }
            i += 1
        }
        if !cur.isEmpty { lines.append(String(cur)) }
        return lines
    }

    private static func stripSet(_ chars: String?) -> (Unicode.Scalar) -> Bool {
        guard let chars else { return isPythonSpace }
        let set = Set(chars.unicodeScalars)
        return { set.contains($0) }
    }

    static func strip(_ s: String, _ chars: String?) -> String { lstrip(rstrip(s, chars), chars) }

    static func lstrip(_ s: String, _ chars: String?) -> String {
        let drop = stripSet(chars)
        return String(String.UnicodeScalarView(s.unicodeScalars.drop(while: drop)))
    }

    static func rstrip(_ s: String, _ chars: String?) -> String {
        let drop = stripSet(chars)
        var v = s.unicodeScalars
        while let last = v.last, drop(last) { v.removeLast() }
        return String(v)
    }

    /// Python `str.capitalize`: first character title-cased, the rest lower-cased.
    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return first.properties.titlecaseMapping + String(String.UnicodeScalarView(s.unicodeScalars.dropFirst())).lowercased()
    }

    /// Python `str.title`: title-case after uncased characters, lower-case after cased ones.
    static func title(_ s: String) -> String {
        var out = ""
        var prevCased = false
        for c in s.unicodeScalars {
            out += prevCased ? c.properties.lowercaseMapping : c.properties.titlecaseMapping
            prevCased = c.properties.isCased
        }
        return out
    }

    static func isLower(_ s: String) -> Bool {
        var cased = false
        for c in s.unicodeScalars {
            if c.properties.isUppercase || c.properties.changesWhenTitlecased && !c.properties.isLowercase { return false }
            if c.properties.isLowercase { cased = true }
        }
        return cased
    }

    static func isUpper(_ s: String) -> Bool {
        var cased = false
        for c in s.unicodeScalars {
            if c.properties.isLowercase { return false }
            if c.properties.isUppercase { cased = true }
        }
        return cased
    }
}
