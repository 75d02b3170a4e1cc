import Foundation

/// CPython's `random.Random`, bit for bit: the Mersenne Twister seeded from an integer
/// (`init_by_array` over the integer's 32-bit words), `getrandbits`, `_randbelow` (rejection over
/// getrandbits), `random()`, `sample` (both its pool and its set branch) and `choices`.
/// lm-eval draws few-shot examples with `random.Random(1234).sample` and bootstraps standard
/// errors with `Random(i).choices`; reproducing those draws needs exactly this generator.
public struct PythonRandom: Sendable {
    private static let n = 624, m = 397
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 625

    /// `random.Random(seed)` for a non-negative integer seed (CPython uses its absolute value).
    public init(seed: UInt64) {
        var key: [UInt32] = []
        var s = seed
        repeat { key.append(UInt32(truncatingIfNeeded: s)); s >>= 32 } while s != 0
        initByArray(key)
    }

    private mutating func initGenrand(_ s: UInt32) {
        state[0] = s
        for i in 1..<Self.n {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
        index = Self.n
    }

    private mutating func initByArray(_ key: [UInt32]) {
        initGenrand(19_650_218)
        var i = 1, j = 0
        for _ in 0..<max(Self.n, key.count) {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1; j += 1
            if i >= Self.n { state[0] = state[Self.n - 1]; i = 1 }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<(Self.n - 1) {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= Self.n { state[0] = state[Self.n - 1]; i = 1 }
        }
        state[0] = 0x8000_0000
        index = Self.n
    }

    private mutating func twist() {
        let (n, m) = (Self.n, Self.m)
        for k in 0..<n {
            let y = (state[k] & 0x8000_0000) | (state[(k + 1) % n] & 0x7fff_ffff)
            state[k] = state[(k + m) % n] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : 0x9908_b0df)
        }
        index = 0
    }

    /// `genrand_uint32`: one tempered 32-bit output.
    public mutating func nextUInt32() -> UInt32 {
        if index >= Self.n { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// `getrandbits(k)` for 0 ≤ k ≤ 64 (words are filled low first; the last keeps its high bits).
    public mutating func getrandbits(_ k: Int) -> UInt64 {
        precondition(k >= 0 && k <= 64, "getrandbits supports 0...64 bits")
        if k == 0 { return 0 }
        if k <= 32 { return UInt64(nextUInt32() >> UInt32(32 - k)) }
        let low = UInt64(nextUInt32())
        let high = UInt64(nextUInt32() >> UInt32(64 - k))
        return low | (high << 32)
    }

    /// `_randbelow(n)`: uniform in 0..<n by rejection over `getrandbits(n.bit_length())`.
    public mutating func randbelow(_ n: Int) -> Int {
        precondition(n > 0, "randbelow needs a positive bound")
        let k = Int.bitWidth - n.leadingZeroBitCount
        var r = getrandbits(k)
        while r >= UInt64(n) { r = getrandbits(k) }
        return Int(r)
    }

    /// `random()`: a double in [0, 1) with 53 random bits.
    public mutating func random() -> Double {
        let a = Double(nextUInt32() >> 5), b = Double(nextUInt32() >> 6)
        return (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `sample(range(populationCount), k)`: the chosen indices, in the order Python returns them.
    public mutating func sampleIndices(populationCount n: Int, k: Int) -> [Int] {
        precondition(k >= 0 && k <= n, "sample larger than population or negative")
        var setSize = 21   // CPython: size of a small set minus size of an empty list
        if k > 5 { setSize += Int(pow(4.0, (log(Double(k * 3)) / log(4.0)).rounded(.up))) }
        var result: [Int] = []
        result.reserveCapacity(k)
        if n <= setSize {
            var pool = Array(0..<n)
            for i in 0..<k {
                let j = randbelow(n - i)
                result.append(pool[j])
                pool[j] = pool[n - i - 1]
            }
        } else {
            var selected = Set<Int>()
            for _ in 0..<k {
                var j = randbelow(n)
                while selected.contains(j) { j = randbelow(n) }
                selected.insert(j)
                result.append(j)
            }
        }
        return result
    }

    /// `shuffle(x)`: from the last element down, each swapped with `_randbelow(i + 1)`.
    public mutating func shuffle<T>(_ x: inout [T]) {
        guard x.count > 1 else { return }
        for i in stride(from: x.count - 1, through: 1, by: -1) { x.swapAt(i, randbelow(i + 1)) }
    }

    /// `sample(population, k)`.
    public mutating func sample<T>(_ population: [T], _ k: Int) -> [T] {
        sampleIndices(populationCount: population.count, k: k).map { population[$0] }
    }

    /// `choices(range(populationCount), k=k)` without weights: `floor(random() * n)` per draw.
    public mutating func choiceIndices(populationCount n: Int, k: Int) -> [Int] {
        let count = Double(n)
        return (0..<k).map { _ in Int((random() * count).rounded(.down)) }
    }
}
