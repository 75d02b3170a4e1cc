import Foundation

/// lm-eval's metrics and aggregations (`lm_eval/api/metrics.py`), with Python's float order of
/// operations (sums left to right, as CPython 3.11's `sum`).
public enum Metrics {
    public static func mean(_ xs: [Double]) -> Double {
        var s = 0.0
        for x in xs { s += x }
        return s / Double(xs.count)
    }

    public static func sampleStddev(_ xs: [Double]) -> Double {
        let mu = mean(xs)
        var s = 0.0
        for x in xs { s += (x - mu) * (x - mu) }
        return (s / Double(xs.count - 1)).squareRoot()
    }

    /// The standard error of a mean: sample standard deviation / sqrt(n).
    public static func meanStderr(_ xs: [Double]) -> Double { sampleStddev(xs) / Double(xs.count).squareRoot() }

    public static func perplexity(_ lls: [Double]) -> Double { exp(-mean(lls)) }

    public static func weightedMean(_ pairs: [(Double, Int)]) -> Double {
        var a = 0.0, b = 0
        for (x, n) in pairs { a += x; b += n }
        return a / Double(b)
    }

    public static func weightedPerplexity(_ pairs: [(Double, Int)]) -> Double { exp(-weightedMean(pairs)) }
    public static func bitsPerByte(_ pairs: [(Double, Int)]) -> Double { -weightedMean(pairs) / log(2) }

    /// lm-eval's bootstrap standard error (perplexity): `iters / 1000` chunks, chunk i drawing
    /// with `random.Random(i).choices`, 1000 resamples each; the sample standard deviation.
    public static func bootstrapStderr(_ xs: [Double], iterations: Int = 100_000, statistic: ([Double]) -> Double) -> Double {
        let chunk = min(1000, iterations)
        var replicates: [Double] = []
        replicates.reserveCapacity(iterations)
        var sample = [Double](repeating: 0, count: xs.count)
        for i in 0..<(iterations / chunk) {
            var rnd = PythonRandom(seed: UInt64(i))
            for _ in 0..<chunk {
                for k in 0..<xs.count { sample[k] = xs[Int((rnd.random() * Double(xs.count)).rounded(.down))] }
                replicates.append(statistic(sample))
            }
        }
        return sampleStddev(replicates)
    }

    /// The group score: the mean of the subtasks' scores weighted by their sizes.
    public static func weightedBySize(_ values: [Double], sizes: [Int]) -> Double {
        var s = 0.0
        for (v, n) in zip(values, sizes) { s += v * Double(n) }
        return s / Double(sizes.reduce(0, +))
    }

    /// lm-eval's `pooled_sample_stderr` for a size-weighted group.
    public static func pooledStderr(_ stderrs: [Double], sizes: [Int]) -> Double {
        var s = 0.0
        for (n, e) in zip(sizes, stderrs) { s += Double(n - 1) * e * e * Double(n) }
        let total = sizes.reduce(0, +)
        return (s / Double(total - sizes.count) / Double(total)).squareRoot()
    }

    /// Python's `\s` (str.isspace) characters.
    static func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// `len(re.split(r"\s+", text))`: whitespace runs + 1.
    public static func wordCount(_ text: String) -> Int {
        var runs = 0
        var inRun = false
        for c in text.unicodeScalars {
            let space = isPythonSpace(c)
            if space && !inRun { runs += 1 }
            inRun = space
        }
        return runs + 1
    }

    /// HF evaluate's `exact_match` as lm-eval calls it (regexes removed, case and punctuation folded).
    public static func exactMatch(_ prediction: String, _ reference: String, _ spec: MetricSpec) throws -> Bool {
        func normalize(_ s: String) throws -> String {
            var s = s
            for r in spec.regexesToIgnore { s = try PythonRegex.sub(pattern: r, replacement: "", in: s) }
            if spec.ignoreCase { s = s.lowercased() }
            if spec.ignorePunctuation { s.unicodeScalars.removeAll { punctuation.contains($0) } }
            if spec.ignoreNumbers { s.unicodeScalars.removeAll { ("0"..."9").contains($0) } }
            return s
        }
        return try normalize(prediction) == normalize(reference)
    }

    /// lighteval's `ExactMatches(strip_strings=True, normalize_pred=…)` (qem): an empty prediction
    /// scores 0; both are stripped; then only the prediction is lower-cased and loses its
    /// punctuation (`ignore_case`, `ignore_punctuation`); equal texts match.
    public static func quasiExactMatch(_ prediction: String, _ gold: String, _ spec: MetricSpec) -> Bool {
        if prediction.isEmpty { return false }
        var p = pythonStrip(prediction)
        if spec.ignoreCase { p = p.lowercased() }
        if spec.ignorePunctuation { p.unicodeScalars.removeAll { punctuation.contains($0) } }
        return p.unicodeScalars.elementsEqual(pythonStrip(gold).unicodeScalars)   // Python compares code points
    }

    /// `str.strip()`.
    static func pythonStrip(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isPythonSpace($0) }), let last = scalars.lastIndex(where: { !isPythonSpace($0) }) else { return "" }
        return String(scalars[first...last])
    }

    /// Python's `string.punctuation`.
    static let punctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)
}
