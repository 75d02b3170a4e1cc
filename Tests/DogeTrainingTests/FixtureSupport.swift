import Foundation
import DogeModel

/// Fixture directories committed under Tests/DogeTrainingTests/Fixtures (made by
/// scripts/training_fixtures/*.py). A missing fixture fails the test.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ name: String) -> URL { root.appendingPathComponent(name) }

    static func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }
}

/// max|a − b| / max|b|: the relative error of a whole tensor against its reference.
func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var diff = 0.0, scale = 0.0
    for i in a.indices {
        diff = max(diff, abs(Double(a[i]) - Double(b[i])))
        scale = max(scale, abs(Double(b[i])))
    }
    return scale == 0 ? diff : diff / scale
}

func tinyConfig(moe: Bool = false, tie: Bool = false, bias: Bool = false) -> DogeConfiguration {
    var c = DogeConfiguration()
    c.vocabSize = 40; c.hiddenSize = 16; c.intermediateSize = 24; c.numHiddenLayers = 2
    c.numAttentionHeads = 4; c.numKeyValueHeads = 2; c.keepWindowSize = 5; c.maxPositionEmbeddings = 64
    c.tieWordEmbeddings = tie; c.attentionBias = bias; c.mlpBias = bias
    if moe { c.isMoE = true; c.numExperts = 16; c.numExpertsPerTok = 3 }
    return c
}
