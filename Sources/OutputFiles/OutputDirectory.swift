import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A directory the tool writes into (a model or report directory). It is checked before any
/// work, created when needed, and a run that fails can `rollback()`: remove the files and
/// directories this run created, and nothing that was there before.
public final class OutputDirectory {
    public let path: String
    /// Directories this run created, outermost first.
    private var createdDirectories: [String] = []
    /// Files this run wrote that did not exist before.
    private var createdFiles: [String] = []

    /// Checks the destination: `path` must be a directory or not exist, and must not be one of `inputs`.
    public init(path: String, inputs: [String] = []) throws {
        guard !path.isEmpty else { throw OutputError(path: path, message: "the output directory path is empty; give a directory name") }
        self.path = path
        var s = stat()
        if stat(path, &s) == 0 {
            guard (s.st_mode & S_IFMT) == S_IFDIR else {
                throw OutputError(path: path, "exists and is not a directory; give a directory name")
            }
            guard access(path, W_OK | X_OK) == 0 else {
                if errno == EROFS { throw OutputError(path: path, "is on a read-only file system; choose another output") }
                throw OutputError(path: path, "permission denied: cannot create files in this directory")
            }
        } else if errno == ENOTDIR {
            throw OutputError(path: path, "a part of the path is not a directory")
        } else {
            try OutputDirectory.checkCreatable(path)
        }
        if let input = inputs.first(where: { OutputFile.sameFile(path, $0) }) {
            throw OutputError(path: path, "is also an input (\(input)); choose another output directory")
        }
    }

    /// The nearest existing ancestor of a missing `path` must take new directories.
    static func checkCreatable(_ path: String) throws {
        var ancestor = OutputFile.parentDirectory(path)
        var s = stat()
        while stat(ancestor, &s) != 0 {
            let parent = OutputFile.parentDirectory(ancestor)
            if parent == ancestor { return }
            ancestor = parent
        }
        guard (s.st_mode & S_IFMT) == S_IFDIR else { throw OutputError(path: path, "\(ancestor) is not a directory") }
        guard access(ancestor, W_OK | X_OK) == 0 else {
            if errno == EROFS { throw OutputError(path: path, "\(ancestor) is on a read-only file system; choose another output") }
            throw OutputError(path: path, "permission denied: cannot create directories in \(ancestor)")
        }
    }

    /// True when the directory exists (now).
    public var exists: Bool {
        var s = stat()
        return stat(path, &s) == 0 && (s.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates the directory and any missing parents, remembering which were new.
    public func create() throws {
        var missing: [String] = []
        var current = path
        while true {
            var s = stat()
            if stat(current, &s) == 0 {
                guard (s.st_mode & S_IFMT) == S_IFDIR else { throw OutputError(path: path, "\(current) is not a directory") }
                break
            }
            guard errno == ENOENT else { throw OutputFile.failure(path: path, errno: errno) }
            missing.append(current)
            let parent = OutputFile.parentDirectory(current)
            if parent == current { break }
            current = parent
        }
        for directory in missing.reversed() {
            guard mkdir(directory, 0o755) == 0 || errno == EEXIST else {
                let code = errno
                switch code {
                case ENOSPC, EDQUOT: throw OutputFile.diskFull(directory)
                case EROFS: throw OutputError(path: path, "\(OutputFile.parentDirectory(directory)) is on a read-only file system; choose another output")
                case EACCES, EPERM: throw OutputError(path: path, "permission denied: cannot create directory \(directory)")
                default: throw OutputError(path: path, "cannot create directory \(directory): \(String(cString: strerror(code)))")
                }
            }
            createdDirectories.append(directory)
        }
    }

    /// The path of `name` inside the directory, remembered for `rollback()` if no such file exists yet.
    public func file(_ name: String) -> String {
        let file = (path as NSString).appendingPathComponent(name)
        willWrite(file)
        return file
    }

    /// Remembers `file` for `rollback()` unless it exists already.
    public func willWrite(_ file: String) {
        if FileIdentity(path: file, following: false) == nil, !createdFiles.contains(file) { createdFiles.append(file) }
    }

    /// Removes what this run created: its files, then its directories if they are empty.
    public func rollback() {
        for file in createdFiles.reversed() { unlink(file) }
        createdFiles = []
        for directory in createdDirectories.reversed() { rmdir(directory) }
        createdDirectories = []
    }

    /// Forgets what was created: the output is kept from now on.
    public func keep() {
        createdFiles = []
        createdDirectories = []
    }
}

/// One-line texts for Foundation's file errors (instead of `NSCocoaErrorDomain Code=…`).
public enum FileErrorText {
    /// `<path>: <problem>` for a Foundation file error, nil for other errors.
    public static func describe(_ error: Error) -> String? {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain else { return nil }
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path ?? "file"
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return OutputFile.failure(path: path, errno: Int32(underlying.code)).message
        }
        let problem: String
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: problem = "no such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: problem = "permission denied"
        case .fileWriteFileExists: problem = "already exists"
        case .fileWriteOutOfSpace: return OutputFile.diskFull(path).message
        case .fileWriteVolumeReadOnly: problem = "read-only file system"
        case .fileReadCorruptFile: problem = "unreadable or corrupt"
        case .fileReadTooLarge: problem = "too large to read"
        default: problem = "file operation failed (\(ns.localizedDescription))"
        }
        return "\(path): \(problem)"
    }
}
