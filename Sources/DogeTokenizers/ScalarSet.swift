/// A set of Unicode scalars as regex classes describe them: `[^\r\n\p{L}\p{N}]`, `\s`, `.`.
struct ScalarSet: Sendable {
    enum Item: Sendable {
        case range(UInt32, UInt32)
        case categories(UInt32, negated: Bool)
        case whitespace(negated: Bool)
        case word(negated: Bool)
        case digit(negated: Bool)
        case nested(ScalarSet)

        func contains(_ value: UInt32) -> Bool {
            switch self {
            case let .range(low, high): return value >= low && value <= high
            case let .categories(mask, negated): return (UnicodeTables.categoryBit(value) & mask != 0) != negated
            case let .whitespace(negated): return UnicodeTables.isWhitespace(value) != negated
            case let .word(negated): return UnicodeTables.isWord(value) != negated
            case let .digit(negated): return UnicodeTables.isDigit(value) != negated
            case let .nested(set): return set.contains(value)
            }
        }
    }

    private(set) var items: [Item] = []
    private(set) var negated = false
    private(set) var caseInsensitive = false
    // Membership of ASCII scalars, precomputed: most text is mostly ASCII.
    private var asciiLow: UInt64 = 0
    private var asciiHigh: UInt64 = 0

    init(items: [Item], negated: Bool = false, caseInsensitive: Bool = false) {
        self.items = items
        self.negated = negated
        self.caseInsensitive = caseInsensitive
        for value in UInt32(0)..<128 where slowContains(value) {
            if value < 64 { asciiLow |= 1 << UInt64(value) } else { asciiHigh |= 1 << UInt64(value - 64) }
        }
    }

    static func single(_ item: Item) -> ScalarSet { ScalarSet(items: [item]) }

    /// `.`: anything but a newline (Oniguruma's default).
    static let anyButNewline = ScalarSet(items: [.range(0x0A, 0x0A)], negated: true)

    private func rawContains(_ value: UInt32) -> Bool {
        items.contains { $0.contains(value) } != negated
    }

    private func slowContains(_ value: UInt32) -> Bool {
        if rawContains(value) { return true }
        guard caseInsensitive else { return false }
        return CaseFolding.variants(of: value).contains { rawContains($0) }
    }

    @inline(__always)
    func contains(_ value: UInt32) -> Bool {
        if value < 64 { return asciiLow & (1 << UInt64(value)) != 0 }
        if value < 128 { return asciiHigh & (1 << UInt64(value - 64)) != 0 }
        return slowContains(value)
    }
}

/// Simple case folding for `(?i:...)`: lowercase, plus the few letters Unicode folds elsewhere.
enum CaseFolding {
    @inline(__always)
    static func fold(_ value: UInt32) -> UInt32 {
        if value < 128 {
            return value >= 0x41 && value <= 0x5A ? value + 32 : value
        }
        switch value {
        case 0x017F: return 0x73  // ſ folds to s
        case 0x212A: return 0x6B  // Kelvin sign folds to k
        case 0x212B: return 0xE5  // Angstrom sign folds to å
        default: break
        }
        guard let scalar = Unicode.Scalar(value) else { return value }
        let lower = scalar.properties.lowercaseMapping.unicodeScalars
        return lower.count == 1 ? lower.first!.value : value
    }

    /// The scalar, its fold and its uppercase, for testing class membership case-insensitively.
    static func variants(of value: UInt32) -> [UInt32] {
        var out = [fold(value)]
        if let scalar = Unicode.Scalar(value) {
            let upper = scalar.properties.uppercaseMapping.unicodeScalars
            if upper.count == 1 { out.append(upper.first!.value) }
        }
        return out
    }
}
