import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element types a safetensors file may declare. Model weights load from F32, BF16 and F16.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2, U16, U32, U64

    public var byteSize: Int {
        switch self {
        case .F64, .I64, .U64: return 8
        case .F32, .I32, .U32: return 4
        case .F16, .BF16, .I16, .U16: return 2
        case .I8, .U8, .BOOL, .F8_E4M3, .F8_E5M2: return 1
        }
    }
}

/// One tensor's entry in a safetensors header.
public struct SafeTensorInfo: Sendable, Equatable {
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    /// Byte range inside the data section (after the header).
    public var dataRange: Range<Int>
}

/// A memory-mapped safetensors file, validated on open: every tensor's range is inside the file,
/// matches its shape and dtype, and no two tensors overlap.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    public let tensors: [String: SafeTensorInfo]
    public let metadata: [String: String]
    private let base: UnsafeRawPointer
    private let mappedLength: Int
    private let dataStart: Int
    /// The largest header accepted (safetensors' `MAX_HEADER_SIZE`).
    public static let maxHeaderBytes = 100_000_000

    public init(path: String) throws {
        self.path = path
        let name = (path as NSString).lastPathComponent
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ModelError.io(path: path, detail: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ModelError.io(path: path, detail: "cannot stat") }
        let size = Int(st.st_size)
        guard size >= 8 else {
            throw ModelError.corruptSafetensors(file: name, problem: "file is \(size) bytes, shorter than the 8-byte header length")
        }
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
            throw ModelError.io(path: path, detail: "cannot memory-map: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(map)
        mappedLength = size
        do {
            let headerLength = Int(clamping: base.loadUnaligned(as: UInt64.self).littleEndian)
            // safetensors itself refuses headers over 100 MB; a header is a few KB per tensor.
            guard headerLength <= SafeTensorsFile.maxHeaderBytes else {
                throw ModelError.corruptSafetensors(file: name, problem: "header length \(headerLength) is over the 100 MB limit safetensors sets")
            }
            guard headerLength <= size - 8 else {
                throw ModelError.corruptSafetensors(file: name, problem: "header length \(headerLength) is longer than the file (\(size - 8) bytes after the length)")
            }
            dataStart = 8 + headerLength
            let headerData = Data(bytes: base + 8, count: headerLength)
            (tensors, metadata) = try Self.parseHeader(headerData, file: name, dataLength: size - dataStart)
        } catch {
            munmap(map, size)
            throw error
        }
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), mappedLength) }

    private static func parseHeader(_ data: Data, file: String, dataLength: Int) throws
        -> ([String: SafeTensorInfo], [String: String]) {
        let object: [String: JSONValue]
        do {
            guard case .object(let o) = try JSONParser.parse(data) else {
                throw ModelError.corruptSafetensors(file: file, problem: "header is not a JSON object")
            }
            object = o
        } catch let e as ModelError { throw e } catch {
            throw ModelError.corruptSafetensors(file: file, problem: "header is not valid JSON (\(error))")
        }
        var tensors: [String: SafeTensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, entry) in object {
            if name == "__metadata__" {
                if case .object(let m) = entry {
                    for (k, v) in m { if case .string(let s) = v { metadata[k] = s } }
                }
                continue
            }
            func bad(_ problem: String) -> ModelError {
                .corruptSafetensors(file: file, problem: "tensor \"\(name)\": \(problem)")
            }
            guard case .object(let fields) = entry,
                  case .string(let dtypeName)? = fields["dtype"],
                  case .array(let shapeValues)? = fields["shape"],
                  case .array(let offsetValues)? = fields["data_offsets"], offsetValues.count == 2 else {
                throw bad("entry needs dtype, shape and data_offsets [begin, end]")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw bad("unknown dtype \"\(dtypeName)\"")
            }
            var shape: [Int] = []
            for v in shapeValues {
                guard case .int(let d) = v, d >= 0 else { throw bad("shape must be non-negative integers") }
                shape.append(d)
            }
            guard case .int(let begin) = offsetValues[0], case .int(let end) = offsetValues[1],
                  begin >= 0, begin <= end else {
                throw bad("data_offsets must be integers with 0 ≤ begin ≤ end")
            }
            guard end <= dataLength else {
                throw bad("data_offsets [\(begin), \(end)] run past the end of the data (\(dataLength) bytes): the file is truncated")
            }
            let (bytes, overflow) = shape.reduce((dtype.byteSize, false)) { acc, d in
                let m = acc.0.multipliedReportingOverflow(by: d)
                return (m.partialValue, acc.1 || m.overflow)
            }
            guard !overflow, bytes == end - begin else {
                throw bad("shape \(shape) of \(dtypeName) needs \(overflow ? "more than 2^63" : String(bytes)) bytes but data_offsets cover \(end - begin)")
            }
            tensors[name] = SafeTensorInfo(dtype: dtype, shape: shape, dataRange: begin..<end)
        }
        let sorted = tensors.sorted { $0.value.dataRange.lowerBound < $1.value.dataRange.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.value.dataRange.overlaps(b.value.dataRange) {
            throw ModelError.corruptSafetensors(file: file, problem: "tensors \"\(a.key)\" and \"\(b.key)\" overlap in the data section")
        }
        return (tensors, metadata)
    }

    /// The raw bytes of a tensor inside the mapping.
    public func bytes(of name: String) -> UnsafeRawBufferPointer? {
        guard let info = tensors[name] else { return nil }
        return UnsafeRawBufferPointer(start: base + dataStart + info.dataRange.lowerBound, count: info.dataRange.count)
    }

    /// A tensor converted to float32. Only floating-point dtypes are weights.
    public func floatTensor(_ name: String) throws -> Tensor {
        guard let info = tensors[name], let raw = bytes(of: name) else {
            throw ModelError.missingTensor(name: name, file: (path as NSString).lastPathComponent)
        }
        let count = info.shape.reduce(1, *)
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { dst in
            switch info.dtype {
            case .F32:
                if count > 0 { memcpy(dst.baseAddress!, raw.baseAddress!, count * 4) }
            case .BF16:
                for i in 0..<count {
                    let bits = UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16
                    dst[i] = Float(bitPattern: bits)
                }
            case .F16:
                for i in 0..<count {
                    dst[i] = HalfFloat.toFloat(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
                }
            case .F64:
                for i in 0..<count { dst[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
            default:
                break
            }
        }
        switch info.dtype {
        case .F32, .BF16, .F16, .F64: return Tensor(shape: info.shape, data: out)
        default:
            throw ModelError.unsupported("\((path as NSString).lastPathComponent): tensor \"\(name)\" has dtype \(info.dtype.rawValue); weights must be F32, BF16 or F16")
        }
    }
}

/// IEEE half ↔ float, written out so it works on every platform (Float16 is missing on macOS x86).
enum HalfFloat {
    static func toFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int(h >> 10) & 0x1f
        let mant = UInt32(h & 0x3ff)
        if exp == 0 {
            // Zero or subnormal: mant · 2^-24.
            let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
    }
}

/// Storage type when writing weights.
public enum WeightDType: String, Sendable {
    case f32 = "F32"
    case bf16 = "BF16"
}

public enum SafeTensorsWriter {
    /// Writes tensors (sorted by name) atomically: a temporary file in the same directory, then rename.
    public static func write(_ tensors: [(String, Tensor)], dtype: WeightDType, metadata: [String: String] = ["format": "pt"],
                             to url: URL) throws {
        let ordered = tensors.sorted { $0.0 < $1.0 }
        var header: [String: JSONValue] = ["__metadata__": .object(metadata.mapValues { .string($0) })]
        var offset = 0
        let elementSize = dtype == .f32 ? 4 : 2
        for (name, t) in ordered {
            let n = t.count * elementSize
            header[name] = .object([
                "dtype": .string(dtype.rawValue),
                "shape": .array(t.shape.map { .int($0) }),
                "data_offsets": .array([.int(offset), .int(offset + n)]),
            ])
            offset += n
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var headerBytes = try encoder.encode(JSONValue.object(header))
        // Pad with spaces so the data section starts 8-byte aligned, as safetensors does.
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var file = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(headerBytes)
        for (_, t) in ordered {
            switch dtype {
            case .f32:
                t.data.withUnsafeBytes { file.append(contentsOf: $0) }
            case .bf16:
                var halves = [UInt16](repeating: 0, count: t.count)
                for i in 0..<t.count { halves[i] = BFloat16.fromFloat(t.data[i]).littleEndian }
                halves.withUnsafeBytes { file.append(contentsOf: $0) }
            }
        }
        try AtomicFile.write(file, to: url)
    }
}

enum BFloat16 {
    /// Round to nearest even, as torch's `.to(torch.bfloat16)`; NaN stays NaN.
    static func fromFloat(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        if f.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounding = ((bits >> 16) & 1) + 0x7fff
        return UInt16((bits &+ rounding) >> 16)
    }
}

/// Writes through a temporary file and a rename, so a crash never leaves a half-written file.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: tmp)
            // Flushed before the rename, so after a power loss the name points at complete data.
            sync(tmp)
            if rename(tmp.path, url.path) != 0 {
                throw ModelError.io(path: url.path, detail: "cannot move the temporary file into place: \(String(cString: strerror(errno)))")
            }
            sync(dir)
        } catch let e as ModelError {
            try? FileManager.default.removeItem(at: tmp)
            throw e
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw ModelError.io(path: url.path, detail: "cannot write: \(error.localizedDescription)")
        }
    }
}
