// Every file the tool writes goes through `OutputFile`: the destination is checked before
// any work, data go to `<path>.partial` (created exclusively, so a concurrent run is never
// clobbered), and `commit()` renames it into place. Nothing is lost, overwritten by
// accident or left half-written.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A refused or failed output, as the one line printed after `error: `.
public struct OutputError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The output concerned (the final path, not its `.partial`).
    public let path: String
    /// The whole message, starting with the path.
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `<path>: <problem>`.
    public init(path: String, _ problem: String) {
        self.init(path: path, message: "\(path): \(problem)")
    }

    public var description: String { message }
}

/// One file being written: `<path>.partial` until `commit()`.
///
/// Writers either hand whole contents to `write(_:)` or let a library (netcdf-c, cairo) write
/// `partialPath`, which this class has created empty and exclusively. Released without
/// `commit()`, the partial is removed: an interrupted run never leaves a file that looks
/// complete. `abandon()` removes the partial only while it is still the file this run created.
public final class OutputFile {
    /// Where the file ends up.
    public let path: String
    /// Where it is written until `commit()`.
    public let partialPath: String

    private var descriptor: Int32
    private let identity: FileIdentity
    private var finished = false

    /// Checks the destination (`OutputFile.checkDestination`) and creates `<path>.partial`.
    /// - Parameter inputs: files the command reads; the output must be none of them.
    public init(path: String, inputs: [String] = []) throws {
        try OutputFile.checkDestination(path, inputs: inputs)
        self.path = path
        partialPath = path + ".partial"
        let fd = open(partialPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { throw OutputFile.partialExists(path) }
            throw OutputFile.failure(path: path, errno: code)
        }
        var s = stat()
        fstat(fd, &s)
        descriptor = fd
        identity = FileIdentity(s)
    }

    deinit { if !finished { abandon() } }

    /// Appends `data` to the partial file (for whole-file writers).
    public func write(_ data: Data) throws {
        guard !finished, descriptor >= 0 else { throw OutputError(path: path, "output already committed or abandoned") }
        let code: Int32 = data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return 0
        }
        if code != 0 {
            let error = OutputFile.failure(path: path, errno: code)
            abandon()
            throw error
        }
    }

    /// Closes this class's own descriptor, so that a library can write `partialPath` itself.
    public func releaseDescriptor() {
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
    }

    /// Renames the partial file to `path`, replacing a regular file there. On failure the
    /// partial is removed.
    public func commit() throws {
        guard !finished else { throw OutputError(path: path, "output already committed or abandoned") }
        do {
            if descriptor >= 0 {
                let closed = close(descriptor)
                let code = errno
                descriptor = -1
                if closed != 0 { throw OutputFile.failure(path: path, errno: code) }
            }
            // The destination may have changed while we were writing.
            try OutputFile.checkExisting(path)
            guard FileIdentity(path: partialPath) == identity else {
                throw OutputError(path: path, "\(partialPath) was removed or replaced by another program while being written; output discarded")
            }
            guard rename(partialPath, path) == 0 else { throw OutputFile.failure(path: path, errno: errno) }
            finished = true
        } catch {
            abandon()
            throw error
        }
    }

    /// Gives the output up: removes the partial file if it is still the one this run created.
    public func abandon() {
        guard !finished else { return }
        finished = true
        releaseDescriptor()
        if FileIdentity(path: partialPath) == identity { unlink(partialPath) }
    }

    /// The error to report for `error`, thrown while writing the partial file: a disk-full
    /// message when the file system has (almost) no space left, since netcdf-c and HDF5 report
    /// a full disk only as "HDF error"; `error` itself otherwise.
    public func failure(_ error: Error) -> Error {
        if error is OutputError { return error }
        if let full = OutputFile.diskFullIfNearlyFull(path) { return full }
        return error
    }

    /// Writes `data` to `path` through `<path>.partial`.
    public static func write(_ data: Data, to path: String, inputs: [String] = []) throws {
        let file = try OutputFile(path: path, inputs: inputs)
        try file.write(data)
        try file.commit()
    }

    // MARK: destination checks

    /// Refuses a destination before any work is done: an empty path, a directory, a device,
    /// FIFO or socket, a missing or unwritable directory, one of `inputs`, or a path whose
    /// `.partial` exists (another run is writing it). An existing regular file is replaced.
    public static func checkDestination(_ path: String, inputs: [String] = []) throws {
        guard !path.isEmpty else { throw OutputError(path: path, message: "the output path is empty; give a file name") }
        try checkExisting(path)
        if path.hasSuffix("/") { throw OutputError(path: path, "is a directory name; give a file name") }
        try checkParent(of: path)
        if let input = inputs.first(where: { sameFile(path, $0) }) {
            throw OutputError(path: path, input == path ? "is also an input; choose another output file"
                                                        : "is also an input (\(input)); choose another output file")
        }
        if FileIdentity(path: path + ".partial", following: false) != nil { throw partialExists(path) }
    }

    static func partialExists(_ path: String) -> OutputError {
        OutputError(path: path, message: "\(path).partial exists: another run is writing \(path) (or a killed run left it; delete it if no run is writing)")
    }

    /// An existing `path` must be a regular file (after following symbolic links).
    static func checkExisting(_ path: String) throws {
        var s = stat()
        guard stat(path, &s) == 0 else { return }
        if (s.st_mode & S_IFMT) == S_IFDIR { throw OutputError(path: path, "is a directory; give a file name") }
        if (s.st_mode & S_IFMT) != S_IFREG {
            throw OutputError(path: path, "not a regular file (a device, FIFO or socket); choose another output")
        }
    }

    /// The directory `path` goes into must exist and take new files.
    static func checkParent(of path: String) throws {
        let parent = parentDirectory(path)
        var s = stat()
        guard stat(parent, &s) == 0 else {
            switch errno {
            case ENOENT: throw OutputError(path: path, "directory \(parent) does not exist; create it first")
            case ENOTDIR: throw OutputError(path: path, "\(parent) is not a directory")
            case EACCES: throw OutputError(path: path, "permission denied: cannot reach directory \(parent)")
            case let code: throw OutputError(path: path, "directory \(parent): \(String(cString: strerror(code)))")
            }
        }
        guard (s.st_mode & S_IFMT) == S_IFDIR else { throw OutputError(path: path, "\(parent) is not a directory") }
        guard access(parent, W_OK | X_OK) == 0 else {
            if errno == EROFS { throw OutputError(path: path, "\(parent) is on a read-only file system; choose another output") }
            throw OutputError(path: path, "permission denied: cannot create files in directory \(parent)")
        }
    }

    /// The directory part of `path` ("." for a bare name).
    public static func parentDirectory(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        let parent = trimmed[..<slash]
        return parent.isEmpty ? "/" : String(parent)
    }

    /// True when `a` and `b` name the same file: the same device and inode (symbolic links
    /// followed) or, for files that do not exist, the same standardised path.
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        if let x = FileIdentity(path: a), let y = FileIdentity(path: b) { return x == y }
        let standard = { (p: String) in URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
        return standard(a) == standard(b)
    }

    // MARK: failures

    /// The message for a failed system call on the output `path`.
    public static func failure(path: String, errno code: Int32) -> OutputError {
        switch code {
        case ENOSPC, EDQUOT: return diskFull(path)
        case EACCES, EPERM: return OutputError(path: path, "permission denied: cannot write in directory \(parentDirectory(path))")
        case EROFS: return OutputError(path: path, "\(parentDirectory(path)) is on a read-only file system; choose another output")
        case ENOENT: return OutputError(path: path, "directory \(parentDirectory(path)) does not exist; create it first")
        case EISDIR: return OutputError(path: path, "is a directory; give a file name")
        default: return OutputError(path: path, "cannot write: \(String(cString: strerror(code)))")
        }
    }

    /// Free space below which a failure inside netcdf-c/HDF5 is taken for a full disk.
    static let nearlyFullBytes: UInt64 = 4 << 20

    static func diskFullIfNearlyFull(_ path: String) -> OutputError? {
        guard let free = freeBytes(parentDirectory(path)), free < nearlyFullBytes else { return nil }
        return diskFull(path)
    }

    /// "<path>: disk full (N MiB free on <mount point>); free space or choose another output".
    public static func diskFull(_ path: String) -> OutputError {
        let directory = parentDirectory(path)
        let free = freeBytes(directory).map { String(format: "%.1f", Double($0) / 1_048_576) } ?? "?"
        return OutputError(path: path, "disk full (\(free) MiB free on \(mountPoint(of: directory))); free space or choose another output")
    }

    /// Bytes an unprivileged writer may still use on the file system of `directory`.
    public static func freeBytes(_ directory: String) -> UInt64? {
        var s = statvfs()
        guard statvfs(directory, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) * UInt64(s.f_frsize)
    }

    /// The mount point holding `directory`: its last ancestor on the same device.
    static func mountPoint(of directory: String) -> String {
        var current = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
        guard let device = FileIdentity(path: current)?.device else { return directory }
        while current != "/" {
            let parent = parentDirectory(current)
            guard let up = FileIdentity(path: parent), up.device == device else { break }
            current = parent
        }
        return current
    }
}

/// Device and inode of a file: what "the same file" means.
struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64

    init(_ s: stat) {
        device = UInt64(s.st_dev)
        inode = UInt64(s.st_ino)
    }

    /// nil when `path` does not exist.
    init?(path: String, following: Bool = true) {
        var s = stat()
        guard (following ? stat(path, &s) : lstat(path, &s)) == 0 else { return nil }
        self.init(s)
    }
}
