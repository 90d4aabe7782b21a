/// Where a decoded unit came from: the frame (1-based, tshark's
/// `frame.number`; for reassembled datagrams the frame of the last
/// fragment), its file in a multi-file run, and its timestamp.
public struct FrameContext: Hashable, Sendable {
    public var frame: Int
    public var fileIndex: Int
    public var time: CaptureTime

    public init(frame: Int, fileIndex: Int = 0, time: CaptureTime) {
        self.frame = frame
        self.fileIndex = fileIndex
        self.time = time
    }
}
