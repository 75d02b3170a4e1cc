import Foundation
import DogeModel

/// Token files packed into max_length blocks, mixed by ratio, shuffled per epoch with a seed.
///
/// Each source's token stream (documents separated by EOS) is cut into consecutive blocks of
/// `blockLength` tokens (the tail that does not fill a block is dropped). The last `evalFraction`
/// of each source's blocks are held out for evaluation, unless separate `evalSources` are given
/// (eval_dataset), whose blocks are then the whole evaluation set. An epoch draws ratio_i · N blocks from
/// source i, where N is `totalSamples` if given, else the largest N no source has to repeat a
/// block for (a single source: all its blocks); a source asked for more blocks than it has cycles
/// through them. The epoch's list is then shuffled (Fisher–Yates with SeededGenerator(seed, epoch)).
/// small-doge's mix_datasets_by_ratio counts documents before packing; here samples are blocks.
public final class PackedCorpus: @unchecked Sendable {
    public struct BlockRef: Sendable, Equatable, Codable { public var source: Int; public var block: Int }

    public let sources: [TokenFile]
    /// Held-out files (eval_dataset); their blocks are referenced as sources.count + i.
    public let evalSources: [TokenFile]
    public let ratios: [Double]
    public let blockLength: Int
    public let trainBlocks: [Int]      // per source
    public let evalBlocks: [BlockRef]
    public let blocksPerEpoch: Int
    public let seed: UInt64
    private var cachedEpoch = -1
    private var cachedOrder: [BlockRef] = []

    public init(sources: [TokenFile], ratios: [Double], blockLength: Int, evalFraction: Double = 0,
                evalSources: [TokenFile] = [], totalSamples: Int? = nil, seed: UInt64) throws {
        precondition(sources.count == ratios.count && !sources.isEmpty)
        self.sources = sources
        self.evalSources = evalSources
        let evalFraction = evalSources.isEmpty ? evalFraction : 0
        self.blockLength = blockLength
        self.seed = seed
        let sum = ratios.reduce(0, +)
        self.ratios = ratios.map { $0 / sum }
        var train: [Int] = [], eval: [BlockRef] = []
        for (i, s) in sources.enumerated() {
            let blocks = s.count / blockLength
            guard blocks > 0 else {
                throw TrainingError.data("\(s.url.lastPathComponent): \(s.count) tokens do not fill one block of max_length \(blockLength)")
            }
            let held = evalFraction > 0 ? max(1, Int((Double(blocks) * evalFraction).rounded())) : 0
            guard blocks - held > 0 else {
                throw TrainingError.data("\(s.url.lastPathComponent): \(blocks) blocks leave nothing to train on after the eval split")
            }
            train.append(blocks - held)
            eval += (blocks - held..<blocks).map { BlockRef(source: i, block: $0) }
        }
        for (i, s) in evalSources.enumerated() {
            let blocks = s.count / blockLength
            guard blocks > 0 else {
                throw TrainingError.data("\(s.url.lastPathComponent) (eval_dataset): \(s.count) tokens do not fill one block of max_length \(blockLength)")
            }
            eval += (0..<blocks).map { BlockRef(source: sources.count + i, block: $0) }
        }
        trainBlocks = train
        evalBlocks = eval
        if let totalSamples {
            blocksPerEpoch = totalSamples
        } else {
            let n = zip(train, self.ratios).map { Double($0.0) / $0.1 }.min()!
            blocksPerEpoch = max(1, Int(n.rounded(.down)))
        }
    }

    /// The shuffled blocks of an epoch.
    public func order(epoch: Int) -> [BlockRef] {
        if epoch == cachedEpoch { return cachedOrder }
        var list: [BlockRef] = []
        list.reserveCapacity(blocksPerEpoch)
        var counts = ratios.map { Int(($0 * Double(blocksPerEpoch)).rounded(.down)) }
        var missing = blocksPerEpoch - counts.reduce(0, +)
        var i = 0
        while missing > 0 { counts[i % counts.count] += 1; missing -= 1; i += 1 }
        for (s, n) in counts.enumerated() {
            for k in 0..<n { list.append(BlockRef(source: s, block: k % trainBlocks[s])) }
        }
        var rng = SeededGenerator(seed: seed &+ 0x5DEECE66D &* UInt64(epoch + 1))
        if list.count > 1 {
            for k in stride(from: list.count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(k + 1))
                list.swapAt(k, j)
            }
        }
        cachedEpoch = epoch
        cachedOrder = list
        return list
    }

    public func tokens(_ ref: BlockRef) -> [Int] {
        let file = ref.source < sources.count ? sources[ref.source] : evalSources[ref.source - sources.count]
        return file.tokens(ref.block * blockLength, blockLength)
    }
}

/// Where the data stream stands: the next block is order(epoch)[index].
public struct DataCursor: Sendable, Codable, Equatable {
    public var epoch = 0
    public var index = 0

    public init(epoch: Int = 0, index: Int = 0) { self.epoch = epoch; self.index = index }

    /// The next `n` blocks, moving to the next epoch when one runs out.
    public mutating func next(_ n: Int, from corpus: PackedCorpus) -> [[Int]] {
        var out: [[Int]] = []
        while out.count < n {
            let order = corpus.order(epoch: epoch)
            if index >= order.count { epoch += 1; index = 0; continue }
            out.append(corpus.tokens(order[index]))
            index += 1
        }
        return out
    }
}
