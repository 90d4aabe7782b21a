import Foundation

/// Gives up root after the capture handle is open (`live --user NAME`):
/// packets are parsed by code facing attacker-controlled input, which should
/// not run with the privileges that opening the interface needed.
public enum PrivilegeDrop {
    public enum Failure: Error, CustomStringConvertible {
        case noSuchUser(String)
        case failed(String)
        public var description: String {
            switch self {
            case let .noSuchUser(u): return "--user: no such user '\(u)'"
            case let .failed(why): return "--user: could not drop privileges: \(why)"
            }
        }
    }

    /// Switches supplementary groups, group and user (in that order, or setgid would fail after setuid).
    public static func drop(to user: String) throws {
        guard let pw = getpwnam(user) else { throw Failure.noSuchUser(user) }
        let uid = pw.pointee.pw_uid
        let gid = pw.pointee.pw_gid
        guard getuid() == 0 || geteuid() == 0 else {
            if getuid() == uid { return }
            throw Failure.failed("not running as root")
        }
        guard initgroups(pw.pointee.pw_name, gid) == 0 else { throw Failure.failed("initgroups: \(String(cString: strerror(errno)))") }
        guard setgid(gid) == 0 else { throw Failure.failed("setgid: \(String(cString: strerror(errno)))") }
        guard setuid(uid) == 0 else { throw Failure.failed("setuid: \(String(cString: strerror(errno)))") }
        // A process that can get root back has not dropped it.
        guard setuid(0) != 0 else { throw Failure.failed("root could be regained") }
    }
}
