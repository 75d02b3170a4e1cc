import Yams

/// YAML text → Foundation values, as `Yams.load` gives them, for recipes and `--set` values; but
/// what Yams' constructor would trap on is an error instead: a mapping key that is not a plain
/// value (`? [a, b]: 1`, `{[a]: 1}`: Yams force-unwraps the key as a string). Documents whose
/// aliases expand to more than `maximumNodes` nodes (the "billion laughs") are refused as well.
public enum RecipeYAML {
    public static let maximumNodes = 1_000_000

    /// nil for an empty document.
    public static func load(_ text: String) throws -> Any? {
        guard let node = try Yams.compose(yaml: text) else { return nil }
        var visited = 0
        try check(node, visited: &visited)
        return node.any
    }

    private static func check(_ node: Node, visited: inout Int) throws {
        visited += 1
        guard visited <= maximumNodes else {
            throw TrainingError.invalidOption(key: "YAML", problem: "the document expands to more than \(maximumNodes) values (aliases repeated inside aliases?)")
        }
        switch node {
        case .scalar: return
        case .sequence(let items): for item in items { try check(item, visited: &visited) }
        case .mapping(let pairs):
            for (key, value) in pairs {
                guard case .scalar = key else {
                    let at = key.mark.map { "line \($0.line), column \($0.column)" } ?? "a mapping"
                    throw TrainingError.invalidOption(key: "YAML", problem: "\(at): a key must be a plain value (a name or a number), not a list or a mapping")
                }
                try check(value, visited: &visited)
            }
        }
    }
}
