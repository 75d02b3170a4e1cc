/// Unicode character properties the regex engine and the pre-tokenizers test on every scalar,
/// from one byte-per-scalar table for the BMP (built once) so the hot loops avoid
/// `Unicode.Scalar.Properties`, which is much slower per call.
enum UnicodeTables {
    /// General categories in a fixed order; the index is the bit used in category masks.
    static let categoryNames = [
        "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No",
        "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So",
        "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn",
    ]

    static let alphabeticFlag: UInt8 = 0x20
    static let whitespaceFlag: UInt8 = 0x40

    private static func categoryIndex(_ category: Unicode.GeneralCategory) -> UInt8 {
        switch category {
        case .uppercaseLetter: 0
        case .lowercaseLetter: 1
        case .titlecaseLetter: 2
        case .modifierLetter: 3
        case .otherLetter: 4
        case .nonspacingMark: 5
        case .spacingMark: 6
        case .enclosingMark: 7
        case .decimalNumber: 8
        case .letterNumber: 9
        case .otherNumber: 10
        case .connectorPunctuation: 11
        case .dashPunctuation: 12
        case .openPunctuation: 13
        case .closePunctuation: 14
        case .initialPunctuation: 15
        case .finalPunctuation: 16
        case .otherPunctuation: 17
        case .mathSymbol: 18
        case .currencySymbol: 19
        case .modifierSymbol: 20
        case .otherSymbol: 21
        case .spaceSeparator: 22
        case .lineSeparator: 23
        case .paragraphSeparator: 24
        case .control: 25
        case .format: 26
        case .surrogate: 27
        case .privateUse: 28
        case .unassigned: 29
        @unknown default: 29
        }
    }

    private static func computeInfo(_ value: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(value) else { return 27 }  // surrogate code points
        let properties = scalar.properties
        var info = categoryIndex(properties.generalCategory)
        if properties.isAlphabetic { info |= alphabeticFlag }
        if properties.isWhitespace { info |= whitespaceFlag }
        return info
    }

    private static let bmp: [UInt8] = (0..<0x10000).map { computeInfo(UInt32($0)) }

    /// Category index in the low 5 bits, plus `alphabeticFlag` and `whitespaceFlag`.
    @inline(__always)
    static func info(_ value: UInt32) -> UInt8 {
        value < 0x10000 ? bmp[Int(value)] : computeInfo(value)
    }

    @inline(__always)
    static func categoryBit(_ value: UInt32) -> UInt32 { 1 << UInt32(info(value) & 0x1F) }

    static func mask(_ names: String...) -> UInt32 {
        names.reduce(0) { $0 | (1 << UInt32(categoryNames.firstIndex(of: $1)!)) }
    }

    static let letters = mask("Lu", "Ll", "Lt", "Lm", "Lo")
    static let marks = mask("Mn", "Mc", "Me")
    static let numbers = mask("Nd", "Nl", "No")
    static let punctuation = mask("Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po")
    static let wordExtras = marks | mask("Nd", "Pc")

    /// Mask for a `\p{...}` name: one- or two-letter categories and a few long names.
    static func mask(forProperty name: String) -> UInt32? {
        let aliases: [String: String] = [
            "Letter": "L", "Mark": "M", "Number": "N", "Punctuation": "P", "Symbol": "S",
            "Separator": "Z", "Other": "C", "Uppercase_Letter": "Lu", "Lowercase_Letter": "Ll",
            "Decimal_Number": "Nd", "Digit": "Nd", "Space_Separator": "Zs", "Control": "Cc",
            "Cntrl": "Cc", "Alpha": "L", "Upper": "Lu", "Lower": "Ll", "Punct": "P",
        ]
        let short = aliases[name] ?? aliases[name.capitalized] ?? name
        if short.count == 1 {
            let bits = categoryNames.enumerated().filter { $0.element.hasPrefix(short) }.reduce(UInt32(0)) { $0 | 1 << UInt32($1.offset) }
            return bits == 0 ? nil : bits
        }
        guard let index = categoryNames.firstIndex(of: short) else { return nil }
        return 1 << UInt32(index)
    }

    // Predicates with the meaning Rust's `char` methods and the regex engines give them.

    @inline(__always)
    static func isWhitespace(_ value: UInt32) -> Bool { info(value) & whitespaceFlag != 0 }

    /// `\w`: Alphabetic, marks, decimal digits, connector punctuation (and ZWNJ/ZWJ, Join_Control).
    @inline(__always)
    static func isWord(_ value: UInt32) -> Bool {
        let info = info(value)
        if info & alphabeticFlag != 0 { return true }
        let bit: UInt32 = 1 << UInt32(info & 0x1F)
        return bit & wordExtras != 0 || value == 0x200C || value == 0x200D
    }

    @inline(__always)
    static func isDigit(_ value: UInt32) -> Bool { info(value) & 0x1F == 8 }

    /// Rust `char::is_numeric`: Nd, Nl, No.
    static func isNumeric(_ value: UInt32) -> Bool { categoryBit(value) & numbers != 0 }

    /// Rust `char::is_alphanumeric`: Alphabetic or Numeric.
    static func isAlphanumeric(_ value: UInt32) -> Bool {
        info(value) & alphabeticFlag != 0 || isNumeric(value)
    }

    /// HF's `is_punc`: ASCII punctuation or any Unicode P category.
    static func isPunctuation(_ value: UInt32) -> Bool {
        if value < 0x80 {
            return (0x21...0x2F).contains(value) || (0x3A...0x40).contains(value)
                || (0x5B...0x60).contains(value) || (0x7B...0x7E).contains(value)
        }
        return categoryBit(value) & punctuation != 0
    }

    static func isMark(_ value: UInt32) -> Bool { categoryBit(value) & marks != 0 }
}
