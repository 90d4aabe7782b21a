import NetworkVocabulary

/// Anything that yields packets one at a time: capture files, merged file sets. (A live
/// interface is read in batches: `LiveCaptureSource.dispatch`.)
public protocol PacketSource: AnyObject {
    /// The next packet, or nil at the end. The returned view is valid until the next call.
    func nextPacket() throws -> CapturedPacket?
}
