/// GPT-2's reversible byte ↔ character table used by byte-level BPE: printable bytes map to
/// themselves, the rest to U+0100 upwards, so every byte string is a string of visible chars.
enum ByteLevel {
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `byteToScalar` for scalars below 0x144; -1 elsewhere.
    static let scalarToByte: [Int] = {
        var table = [Int](repeating: -1, count: 0x144)
        for (byte, scalar) in byteToScalar.enumerated() { table[Int(scalar)] = byte }
        return table
    }()

    /// GPT-2's split pattern, used by the ByteLevel pre-tokenizer when `use_regex` is true.
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    // The pattern is a constant known to compile.
    // swiftlint:disable:next force_try
    static let gpt2Regex = try! ScalarRegex(gpt2Pattern)

    /// Maps text to its byte-level spelling: UTF-8 bytes, each as one table scalar.
    static func encode(_ scalars: ArraySlice<UInt32>, into out: inout [UInt32]) {
        for value in scalars {
            if value < 0x80 {
                out.append(byteToScalar[Int(value)])
            } else if value < 0x800 {
                out.append(byteToScalar[Int(0xC0 | (value >> 6))])
                out.append(byteToScalar[Int(0x80 | (value & 0x3F))])
            } else if value < 0x10000 {
                out.append(byteToScalar[Int(0xE0 | (value >> 12))])
                out.append(byteToScalar[Int(0x80 | ((value >> 6) & 0x3F))])
                out.append(byteToScalar[Int(0x80 | (value & 0x3F))])
            } else {
                out.append(byteToScalar[Int(0xF0 | (value >> 18))])
                out.append(byteToScalar[Int(0x80 | ((value >> 12) & 0x3F))])
                out.append(byteToScalar[Int(0x80 | ((value >> 6) & 0x3F))])
                out.append(byteToScalar[Int(0x80 | (value & 0x3F))])
            }
        }
    }

    /// Bytes of a token; a token with any scalar outside the table contributes its own UTF-8
    /// (HF does the same for added tokens like `<|endoftext|>` that were never byte-mapped).
    static func decode(_ token: String, into bytes: inout [UInt8]) {
        var mapped: [UInt8] = []
        for scalar in token.unicodeScalars {
            let value = Int(scalar.value)
            guard value < scalarToByte.count, scalarToByte[value] >= 0 else {
                bytes += Array(token.utf8)
                return
            }
            mapped.append(UInt8(scalarToByte[value]))
        }
        bytes += mapped
    }
}
