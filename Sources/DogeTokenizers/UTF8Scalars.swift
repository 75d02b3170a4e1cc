/// Strict UTF-8 decoding to scalar values, reporting the offset of the first invalid byte.
enum UTF8Scalars {
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                out.append(UInt32(lead))
                index += 1
                continue
            }
            let length: Int, minimum: UInt32
            var value: UInt32
            switch lead {
            case 0xC2...0xDF: (length, minimum, value) = (2, 0x80, UInt32(lead & 0x1F))
            case 0xE0...0xEF: (length, minimum, value) = (3, 0x800, UInt32(lead & 0x0F))
            case 0xF0...0xF4: (length, minimum, value) = (4, 0x10000, UInt32(lead & 0x07))
            default: throw TokenizerError.invalidUTF8(byteOffset: index)
            }
            guard index + length <= count else { throw TokenizerError.invalidUTF8(byteOffset: index) }
            for offset in 1..<length {
                let byte = bytes[index + offset]
                guard byte & 0xC0 == 0x80 else { throw TokenizerError.invalidUTF8(byteOffset: index) }
                value = value << 6 | UInt32(byte & 0x3F)
            }
            // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
            guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else {
                throw TokenizerError.invalidUTF8(byteOffset: index)
            }
            out.append(value)
            index += length
        }
        return out
    }
}
