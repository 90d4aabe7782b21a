/// A line kept at the bottom of a terminal while output scrolls above it (the
/// progress line on stderr). Output to the same terminal steps around it:
/// erase the line, write, draw it again; otherwise the two would be mixed on
/// one line.
public protocol TerminalStatusLine: AnyObject, Sendable {
    /// Runs `write` with the line erased from the terminal, then draws the line again.
    func withLineErased(_ write: () -> Void)
}
