import ArgumentParser
import Foundation
import DogeKernels

// How every `doge` command fails (new commands follow this too):
//
// • Usage errors: a flag's value, or a combination of flags, that can never work, whatever the
//   files say (`--ids "1,two"`, `--greedy` with `--temperature`, `--dtype f16`). Check them in the
//   command's `validate()` (or an option group's) and throw `ValidationError`: ArgumentParser
//   prints "Error: …" with the subcommand's usage and exits 64. A `ValidationError` that still
//   escapes `run()` is shown the same way (`CLIFailure.run`), never with the top-level usage.
// • Everything else (missing or bad files, checkpoints, data, settings read from a model, a port
//   in use): throw from `run()`. The error's `description` is printed as one line
//   "Error: …" and the exit code is 1. Library errors already name the file, field or line and
//   say what to do; for a message the command words itself, throw `RunError("…")`.
// • Stopped on purpose after cleaning up (Ctrl-C during training): `throw ExitCode(130)`.

/// A run-time failure worded by the command: printed as one line, exit code 1.
struct RunError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum CLIFailure {
    /// Runs a parsed command and exits as the rules above say.
    static func run(_ parsed: ParsableCommand) async -> Never {
        var command = parsed
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Doge.exit()
        } catch let error as ValidationError {
            // ArgumentParser would show the top-level usage here; show the subcommand's, as validate() does.
            let usage = Doge.usageString(for: type(of: parsed)).trimmingCharacters(in: .whitespacesAndNewlines)
            let path = usage.split(separator: " ").prefix { !$0.hasPrefix("-") && !$0.hasPrefix("[") && !$0.hasPrefix("<") }
            printError("Error: \(error.message)\nUsage: \(usage)\n  See '\(path.joined(separator: " ")) --help' for more information.\n")
            Doge.exit(withError: ExitCode(64))
        } catch let error where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // ExitCode, CleanExit and `doge help`'s request: ArgumentParser's own handling.
            Doge.exit(withError: error)
        } catch {
            printError("Error: \(message(for: error))\n")
            Doge.exit(withError: ExitCode.failure)
        }
    }

    /// One line for any error: the library's own description, or what a Foundation file error means.
    static func message(for error: Error) -> String {
        let ns = error as NSError
        if ns.domain == NSCocoaErrorDomain {
            let path = (ns.userInfo[NSFilePathErrorKey] as? String)
                ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path ?? "a file"
            switch CocoaError.Code(rawValue: ns.code) {
            case .fileReadNoSuchFile, .fileNoSuchFile: return "\(path): no such file"
            case .fileReadNoPermission, .fileWriteNoPermission: return "\(path): permission denied"
            case .fileWriteOutOfSpace: return "\(path): no space left on the device"
            default: return "\(path): \(ns.localizedDescription)"
            }
        }
        return String(describing: error).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Environment variables doge reads whose values it cannot use, said once at start-up.
    static func warnAboutEnvironment() {
        for warning in ProcessEnvironment.warnings { printError("warning: \(warning)\n") }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
