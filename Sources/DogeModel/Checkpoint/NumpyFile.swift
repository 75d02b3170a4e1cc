import Foundation

/// NumPy `.npy` (format 1.0) for float32 arrays, so `numpy.load` reads what we write.
public enum NumpyFile {
    public static func encode(_ tensor: Tensor) -> Data {
        let shape = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        // Magic (6) + version (2) + length (2) + header + "\n" must be a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        tensor.data.withUnsafeBytes { raw in
            var littleEndian = Data(raw)
            if UInt32(1).bigEndian == 1 {   // big-endian host: swap to '<f4'
                littleEndian = Data(tensor.data.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
            }
            data.append(littleEndian)
        }
        return data
    }

    public static func write(_ tensor: Tensor, to url: URL) throws {
        try AtomicFile.write(encode(tensor), to: url)
    }
}
