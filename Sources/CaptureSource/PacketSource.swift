import NetworkVocabulary

/// Anything that yields packets: capture files, merged file sets, live interfaces.
public protocol PacketSource: AnyObject {
    /// The next packet, or nil at the end. The returned view is valid until the next call.
    func nextPacket() throws -> CapturedPacket?
}
