/// One captured frame as a borrowed view.
///
/// `bytes` points into the capture library's buffer and is valid only until
/// the source is asked for the next packet: consumers that need the bytes
/// later must copy them (the TCP and IP reassemblers do, nothing else should).
public struct CapturedPacket {
    /// 1-based position in its file, equal to tshark's `frame.number`.
    public var frameNumber: Int
    /// Index of the file in the run's file list (0 for single-file runs and live capture).
    public var fileIndex: Int
    public var time: CaptureTime
    public var linkType: LinkType
    /// Length on the wire; `bytes.count` is the captured (possibly snapped) length.
    public var originalLength: Int
    public var bytes: UnsafeRawBufferPointer

    public init(frameNumber: Int, fileIndex: Int, time: CaptureTime, linkType: LinkType,
                originalLength: Int, bytes: UnsafeRawBufferPointer) {
        self.frameNumber = frameNumber
        self.fileIndex = fileIndex
        self.time = time
        self.linkType = linkType
        self.originalLength = originalLength
        self.bytes = bytes
    }
}
