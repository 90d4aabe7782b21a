import NetworkVocabulary

/// One datagram, with every vantage point that captured it.
public struct StitchedPacket: Sendable {
    /// Indices into the stitch's sightings, in reference-clock order.
    public var sightings: [Int]
}

/// Groups sightings of the same bytes at different vantage points into packets.
///
/// The same bytes seen twice at one vantage point are two packets (a STUN
/// retransmission is byte-identical); seen at two vantage points within
/// `window` of each other (on the reference clock) they are one packet, when
/// the two flows share a source or a destination endpoint (a NAT rewrites one
/// side at a time; a packet crossing two NATs is linked through the vantage
/// point between them). A sighting joins the latest compatible packet that
/// lacks its vantage point, so a lost copy does not shift every later match.
public enum SightingCorrelator {
    public static func correlate(_ sightings: [Sighting], correctedTimes: [Int64], window: Int64) -> [StitchedPacket] {
        var byKey: [PacketKey: [Int]] = [:]
        for (i, s) in sightings.enumerated() { byKey[s.key, default: []].append(i) }
        var packets: [StitchedPacket] = []
        packets.reserveCapacity(sightings.count)
        for (_, members) in byKey {
            let ordered = members.sorted { (correctedTimes[$0], $0) < (correctedTimes[$1], $1) }
            var open: [Int] = []  // indices into `packets` of this key's packets, oldest first
            for i in ordered {
                let t = correctedTimes[i]
                let s = sightings[i]
                open.removeAll { t &- correctedTimes[packets[$0].sightings[0]] > window }
                var joined = false
                for p in open.reversed() {
                    let group = packets[p].sightings
                    guard !group.contains(where: { sightings[$0].vantage == s.vantage }),
                          group.contains(where: { compatible(sightings[$0].flow, s.flow) }) else { continue }
                    packets[p].sightings.append(i)
                    joined = true
                    break
                }
                if !joined {
                    packets.append(StitchedPacket(sightings: [i]))
                    open.append(packets.count - 1)
                }
            }
        }
        packets.sort { a, b in
            let ta = correctedTimes[a.sightings[0]], tb = correctedTimes[b.sightings[0]]
            return ta != tb ? ta < tb : a.sightings[0] < b.sightings[0]
        }
        return packets
    }

    static func compatible(_ a: FiveTuple, _ b: FiveTuple) -> Bool {
        a.transport == b.transport && (a.source == b.source || a.destination == b.destination)
    }
}
