import Foundation
import LiveMonitoring
import Pipeline
import Renderers
import Synchronization

/// The one progress line on stderr while a command reads captures or an
/// interface: redrawn in place (carriage return, the text, erase to the end
/// of the line), erased before the command's own output.
///
/// Only when stderr is a terminal (never in a pipe, a file or a CI log) and
/// not `--quiet`; nothing is drawn in the first second, so short runs never
/// flicker a line. There is one stderr, so there is one line: every message
/// on stderr (`StandardError`) and every write of output to the same terminal
/// (`FileDescriptorOutput.statusLine`) erases it, writes, and draws it again.
/// Drawn from whichever thread reports (export's workers): the state is
/// behind a lock, and each draw is one write(2).
final class ProgressLine: TerminalStatusLine {
    static let standardError = ProgressLine(fd: 2)

    private struct State {
        var on = false
        var started = ContinuousClock.now
        /// The parts on the terminal now; nil when the line is empty.
        var shown: [String]?
    }

    private let fd: Int32
    private let state = Mutex(State())

    /// Nothing is drawn before the run has lasted this long.
    static let delay: Duration = .seconds(1)

    private init(fd: Int32) {
        self.fd = fd
    }

    /// Turns the line on for this run unless `quiet` or stderr is not a terminal.
    func start(quiet: Bool) {
        let on = !quiet && isatty(fd) == 1
        state.withLock { s in
            s.on = on
            s.started = .now
            s.shown = nil
        }
    }

    /// Whether the line may be drawn (a terminal, not `--quiet`).
    var isOn: Bool { state.withLock { $0.on } }

    /// Seconds since `start`.
    var elapsed: Double {
        let d = ContinuousClock.now - state.withLock { $0.started }
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Shows `parts` (`ProgressText`) in place of what the line showed, once the run has
    /// lasted `delay`. `update`: only replace a line already shown, never start one (the
    /// last report of a run that ended before the line appeared would only flash).
    func show(_ parts: [String], update: Bool = false) {
        state.withLock { s in
            guard s.on, ContinuousClock.now - s.started >= ProgressLine.delay, !update || s.shown != nil else { return }
            s.shown = parts
            writeAll("\r" + drawn(parts) + "\u{1b}[K")
        }
    }

    /// How far reading capture files has got (`analyze`, `messages`, `stats`, `export`).
    func showReading(_ progress: RunProgress) {
        show(ProgressText.reading(bytesRead: progress.bytesRead, totalBytes: progress.totalBytes,
                                  packets: progress.packets, sessionsAlive: progress.sessionsAlive, elapsed: elapsed),
             update: progress.finished)
    }

    /// What a live capture has done so far (`live`).
    func showLive(_ progress: LiveProgress) {
        show(ProgressText.live(captured: progress.captured, kernelDropped: progress.kernelDropped, shed: progress.shed,
                               packetsPerSecond: progress.packetsPerSecond))
    }

    /// Writes `message` (whole lines) on stderr with the line out of the way.
    func print(_ message: String) {
        state.withLock { s in
            guard s.on, let parts = s.shown else {
                writeAll(message)
                return
            }
            writeAll("\r\u{1b}[K" + message + "\r" + drawn(parts) + "\u{1b}[K")
        }
    }

    func withLineErased(_ write: () -> Void) {
        state.withLock { s in
            guard s.on, let parts = s.shown else {
                write()
                return
            }
            writeAll("\r\u{1b}[K")
            write()
            writeAll("\r" + drawn(parts) + "\u{1b}[K")
        }
    }

    /// Erases the line and turns it off: what follows on the terminal is the command's own.
    func finish() {
        state.withLock { s in
            if s.on, s.shown != nil { writeAll("\r\u{1b}[K") }
            s.on = false
            s.shown = nil
        }
    }

    /// The parts cut to the terminal's width (read at each draw: the window may have been
    /// resized). No program name in front, unlike messages: the line is not one, and 80
    /// columns then hold every part of a large run.
    private func drawn(_ parts: [String]) -> String {
        ProgressText.line(parts, columns: columns)
    }

    /// The terminal's width (TIOCGWINSZ), 80 when it does not say.
    private var columns: Int {
        var size = winsize()
        let rc = withUnsafeMutablePointer(to: &size) { ioctl(fd, UInt(TIOCGWINSZ), $0) }
        return rc == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    private func writeAll(_ s: String) {
        var s = s
        s.withUTF8 { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                offset += n
            }
        }
    }
}
