import Foundation

/// The task files doge knows: the built-in `Tasks/` folder of the repository plus any
/// `--include-path` folders (searched recursively for `*.yaml`, as lm-eval does). A file's
/// `style` key says whose definition it is: with `style: .lighteval` a name resolves to the
/// lighteval definition where there is one (Tasks/lighteval/), else to the lm-eval one.
public struct TaskLibrary: Sendable {
    public private(set) var tasks: [String: TaskConfig] = [:]
    public private(set) var groups: [String: GroupConfig] = [:]
    /// tag → task names carrying it, in file order.
    public private(set) var tags: [String: [String]] = [:]
    public let style: TaskStyle

    public init(directories: [URL], style: TaskStyle = .lmEval) throws {
        self.style = style
        var styled: [TaskConfig] = [], styledGroups: [GroupConfig] = []
        for directory in directories {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw EvalError(.usage, "task folder \(directory.path) does not exist")
            }
            let files = (FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? [])
                .filter { ["yaml", "yml"].contains($0.pathExtension) }
                .sorted { $0.path < $1.path }
            for file in files {
                let pairs = try YAMLValue.loadTaskFile(file)
                if pairs.contains(where: { $0.0 == "group" }) {
                    let group = try GroupConfig(pairs: pairs, file: file)
                    if group.style == .lmEval { groups[group.name] = group } else if group.style == style { styledGroups.append(group) }
                } else if pairs.contains(where: { $0.0 == "task" }) {
                    let task = try TaskConfig(pairs: pairs, file: file)
                    if task.style == .lmEval { tasks[task.name] = task } else if task.style == style { styled.append(task) }
                }
            }
        }
        for task in styled { tasks[task.name] = task }
        for group in styledGroups { groups[group.name] = group }
        for file in tasks.values.sorted(by: { $0.file.path < $1.file.path }) {
            for tag in file.tags { tags[tag, default: []].append(file.name) }
        }
    }

    /// The repository's `Tasks/` folder, looked for upward from the binary and the working directory.
    public static func builtInDirectory() -> URL? {
        if let env = ProcessInfo.processInfo.environment["DOGE_TASKS"], !env.isEmpty { return URL(fileURLWithPath: env) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for start in [executable.deletingLastPathComponent(), URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] {
            var dir = start
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent("Tasks")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("arc_easy.yaml").path) { return candidate }
                dir.deleteLastPathComponent()
            }
        }
        return nil
    }

    /// A requested name: a task, or a group with its leaf tasks in order.
    public struct Selection: Sendable {
        public var tasks: [TaskConfig]
        /// Groups to report, outermost first, each with its leaf task names and subgroups.
        public var groups: [(group: GroupConfig, leaves: [String], depth: Int)]
    }

    /// Expands names (tasks, groups, tags) to the tasks to run, each once, in order.
    public func select(_ names: [String]) throws -> Selection {
        var selection = Selection(tasks: [], groups: [])
        var seen = Set<String>()
        func add(_ name: String, depth: Int, stack: [String]) throws -> [String] {
            if let task = tasks[name] {
                if seen.insert(name).inserted { selection.tasks.append(task) }
                return [name]
            }
            if let group = groups[name] {
                guard !stack.contains(name) else { throw EvalError(.taskFile, "group \(name) contains itself (\(stack.joined(separator: " → ")))") }
                let index = selection.groups.count
                selection.groups.append((group, [], depth))
                var leaves: [String] = []
                for member in group.members { leaves += try add(member, depth: depth + 1, stack: stack + [name]) }
                selection.groups[index].leaves = leaves
                return leaves
            }
            if let tagged = tags[name] {
                return try tagged.flatMap { try add($0, depth: depth, stack: stack) }
            }
            let known = (Array(tasks.keys) + Array(groups.keys)).sorted()
            let close = known.filter { $0.hasPrefix(String(name.prefix(4))) }.prefix(8)
            throw EvalError(.unknownTask, "unknown task '\(name)'" + (close.isEmpty ? "" : " (did you mean: \(close.joined(separator: ", "))?)")
                + "; `doge eval --list-tasks` lists the \(tasks.count) tasks and \(groups.count) groups; add your own with --include-path DIR")
        }
        for name in names { _ = try add(name, depth: 0, stack: []) }
        return selection
    }
}
