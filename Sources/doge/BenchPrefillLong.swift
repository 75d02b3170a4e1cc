import Foundation
import DogeModel

/// `doge bench SIZE prefill-long`: one forward call over ever longer prompts. With no query
/// attending to more than keep_window_size keys, time should grow linearly past the window.
func benchPrefillLong(model: DogeForCausalLM, rng: inout SeededGenerator, into result: inout [String: Any],
                      lengths: [Int] = [2048, 4096, 8192, 16384], runs: Int = 3) throws {
    // A fresh model has A = 0, so every dt is 1 and the kept set never changes; random A makes
    // keys join and leave the window as they would in a trained model.
    for i in model.model.layers.indices {
        let a = model.model.layers[i].selfAttention.a
        model.model.layers[i].selfAttention.a = Tensor(shape: a.shape, data: (0..<a.count).map { _ in rng.nextGaussian() })
    }
    let vocab = UInt64(model.config.vocabSize)
    let longest = (0..<(lengths.max() ?? 0)).map { _ in Int(rng.next() % vocab) }
    _ = try model.logits(ids: [Array(longest.prefix(256))], logitsToKeep: 1)   // warm-up
    var times: [Int: Double] = [:]
    for n in lengths {
        let ids = Array(longest.prefix(n))
        var cpu: [Double] = []
        times[n] = median(try (0..<runs).map { _ in
            let before = processCPUSeconds()
            defer { cpu.append(processCPUSeconds() - before) }
            return try seconds { _ = try model.logits(ids: [ids], logitsToKeep: 1) }
        })
        result["cpu_s_at_\(n)"] = (median(cpu) * 1000).rounded() / 1000
        result["prefill_s_at_\(n)"] = (times[n]! * 1000).rounded() / 1000
        result["peak_rss_mb_at_\(n)"] = (peakResidentMegabytes() * 10).rounded() / 10
    }
    if let first = lengths.first, let last = lengths.last, let t0 = times[first], let t1 = times[last] {
        result["time_ratio_\(last)_over_\(first)"] = (t1 / t0 * 100).rounded() / 100
    }
}

/// Peak resident set size of this process in MB (Linux /proc VmHWM; 0 elsewhere).
func peakResidentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return 0 }
    return kb / 1024
}

/// User + system CPU time of this process so far (all threads): on a loaded machine it shows
/// how much of the wall time the benchmark actually ran.
func processCPUSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
