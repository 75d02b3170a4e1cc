import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Directory-level atomicity for checkpoints: a checkpoint directory is assembled under a hidden
// temporary name and renamed into place, an old one is renamed aside before it is deleted, so a
// process killed at any instant leaves every `checkpoint-N` either complete or absent.

extension AtomicFile {
    /// fsync of a file or directory (errors ignored: durability is best effort, atomicity is not).
    public static func sync(_ url: URL) {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// fsync of every regular file under `directory`, then of the directory itself.
    public static func syncTree(_ directory: URL) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: directory.path)) ?? [] {
            sync(directory.appendingPathComponent(name))
        }
        sync(directory)
    }

    /// Moves the complete directory `temporary` to `final`, replacing what is there: the old
    /// `final` is first renamed aside, so `final` never holds a partial tree.
    public static func replaceDirectory(_ final: URL, with temporary: URL) throws {
        let parent = final.deletingLastPathComponent()
        syncTree(temporary)
        var aside: URL?
        if FileManager.default.fileExists(atPath: final.path) {
            let old = parent.appendingPathComponent(".\(final.lastPathComponent).old-\(getpid())")
            try? FileManager.default.removeItem(at: old)
            guard rename(final.path, old.path) == 0 else {
                throw ModelError.io(path: final.path, detail: "cannot move the old directory aside: \(String(cString: strerror(errno)))")
            }
            aside = old
        }
        guard rename(temporary.path, final.path) == 0 else {
            throw ModelError.io(path: final.path, detail: "cannot move the new directory into place: \(String(cString: strerror(errno)))")
        }
        sync(parent)
        if let aside { try? FileManager.default.removeItem(at: aside) }
    }

    /// Deletes a directory without ever exposing a half-deleted tree under its name.
    public static func removeDirectory(_ url: URL) throws {
        let aside = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).old-\(getpid())")
        guard rename(url.path, aside.path) == 0 else {
            throw ModelError.io(path: url.path, detail: "cannot move aside for deletion: \(String(cString: strerror(errno)))")
        }
        sync(url.deletingLastPathComponent())
        try FileManager.default.removeItem(at: aside)
    }

    /// Removes hidden `.NAME.tmp-PID` / `.NAME.old-PID` entries left in `directory` by processes
    /// that no longer run (a killed save).
    public static func removeStaleTemporaries(in directory: URL) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasPrefix(".") {
            guard let dash = name.lastIndex(of: "-"), let pid = Int32(name[name.index(after: dash)...]),
                  name[..<dash].hasSuffix(".tmp") || name[..<dash].hasSuffix(".old"), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(at: directory.appendingPathComponent(name)) }
        }
    }
}
