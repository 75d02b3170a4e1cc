import Foundation
import DogeModel

/// Locates the committed fixtures next to this file, whatever the working directory.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Every case directory that has a reference.
    static var parityCases: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: url($0).appendingPathComponent("reference.json").path) }.sorted()
    }
}

/// transformers' output for one fixture case.
struct Reference {
    var inputIds: [[Int]]
    var attentionMask: [[Int]]?
    var compareRows: [[Int]]?
    var head: String
    var logits: Tensor

    init(caseName: String) throws {
        let dir = Fixtures.url(caseName)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("reference.json"))) as! [String: Any]
        inputIds = json["input_ids"] as! [[Int]]
        attentionMask = json["attention_mask"] as? [[Int]]
        compareRows = json["compare_rows"] as? [[Int]]
        head = json["head"] as! String
        logits = try SafeTensorsFile(path: dir.appendingPathComponent("reference.safetensors").path).floatTensor("logits")
    }
}

/// Largest |a − b| over the rows [B, T, V] where `rows` (if given) is 1.
func maxAbsDifference(_ a: Tensor, _ b: Tensor, rows: [[Int]]? = nil) -> Float {
    precondition(a.shape == b.shape, "shapes differ: \(a.shape) vs \(b.shape)")
    let width = a.shape.last!
    var worst: Float = 0
    for r in 0..<(a.count / width) {
        if let rows {
            let t = rows[0].count
            if rows[r / t][r % t] == 0 { continue }
        }
        for i in (r * width)..<((r + 1) * width) { worst = max(worst, abs(a.data[i] - b.data[i])) }
    }
    return worst
}
