import NetworkVocabulary

/// Several capture files read as one stream, merged by timestamp.
///
/// Rotated capture sets (`tcpdump -C/-G`, ring buffers) overlap at their
/// edges; a k-way merge keeps the global order without loading files. Each
/// packet keeps its own file's frame number and the file index. Damage in one
/// file ends that file only: the error is recorded and the others go on.
public final class CaptureFileSet: PacketSource {
    public let readers: [PcapFileReader]
    public private(set) var errors: [CaptureError] = []
    private var pending: [CapturedPacket?]
    private var needsRefill: [Bool]
    private var lastReturned: Int?

    public init(readers: [PcapFileReader]) {
        self.readers = readers
        pending = Array(repeating: nil, count: readers.count)
        needsRefill = Array(repeating: true, count: readers.count)
    }

    /// Bytes read so far over every file (a packet waiting in the merge counts as read).
    public var bytesRead: Int64 { readers.reduce(0) { $0 &+ $1.bytesRead } }

    private func refill(_ i: Int) {
        needsRefill[i] = false
        do {
            pending[i] = try readers[i].nextPacket()
        } catch let error as CaptureError {
            pending[i] = nil
            errors.append(error)
        } catch {
            pending[i] = nil
        }
    }

    public func nextPacket() throws -> CapturedPacket? {
        if readers.count == 1 {
            do { return try readers[0].nextPacket() } catch let e as CaptureError {
                errors.append(e)
                return nil
            }
        }
        if let last = lastReturned { refill(last) }
        for i in 0..<readers.count where needsRefill[i] { refill(i) }
        var best: Int?
        for i in 0..<pending.count {
            guard let p = pending[i] else { continue }
            if let b = best, let bp = pending[b], bp.time <= p.time { continue }
            best = i
        }
        lastReturned = best
        guard let b = best else { return nil }
        // The view stays valid: reader b is not advanced until the next call.
        return pending[b]
    }
}
