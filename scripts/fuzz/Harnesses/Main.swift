import Foundation

// One libFuzzer binary for every target; DOGE_FUZZ_TARGET picks the harness (scripts/fuzz/run.sh
// sets it). Each harness feeds the input to a parser the way the program does and treats any
// thrown error as a correct answer: only crashes, hangs, leaks and memory blow-ups are findings.

let targets: [String: (Data) -> Void] = [
    "json": fuzzJSON,
    "safetensors": fuzzSafeTensors,
    "config": fuzzConfig,
    "tokenizer-json": fuzzTokenizerJSON,
    "tokenizer-encode": fuzzTokenizerEncode,
    "jinja": fuzzJinja,
    "recipe": fuzzRecipe,
    "server-request": fuzzServerRequest,
]

nonisolated(unsafe) let selected: (Data) -> Void = {
    let name = ProcessInfo.processInfo.environment["DOGE_FUZZ_TARGET"] ?? ""
    guard let f = targets[name] else {
        FileHandle.standardError.write(Data("DOGE_FUZZ_TARGET must be one of: \(targets.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return f
}()

/// A scratch file per process for harnesses whose API takes a path (tmpfs when there is one).
let scratchDirectory: URL = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let url = URL(fileURLWithPath: base).appendingPathComponent("doge-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: "/dev/shm/doge-fuzz-\(getpid())") }
    return url
}()

func scratchFile(_ name: String, _ data: Data) -> URL {
    let url = scratchDirectory.appendingPathComponent(name)
    try? data.write(to: url)
    return url
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    selected(Data(bytes: bytes, count: size))
    return 0
}
