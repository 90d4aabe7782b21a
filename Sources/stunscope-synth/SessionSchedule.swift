import NetworkVocabulary

/// When each control-heavy replay starts, which relay ports it holds and
/// where its client addresses are numbered from. Clients arrive at their
/// drawn times, in that order (a queue); one that would make more than
/// `maxAlive` sessions alive at once, or finds no free relay port on its
/// relayed address, waits until the earliest-ending alive session is over,
/// as at a server at capacity. A session is alive for its footprint's
/// `aliveSpan`; its relay ports are free again when that ends, and are
/// taken least recently freed first, so a relayed address is never held
/// by two live allocations.
struct SessionSchedule {
    /// Relay ports of one relayed IPv4 address (RFC 8656's 49152-65535),
    /// handed out least recently freed first.
    private struct PortPool {
        private var ports = Array(UInt16(49_152)...UInt16(65_535))
        private var head = 0

        var available: Int { ports.count - head }

        mutating func take() -> UInt16 {
            let port = ports[head]
            head += 1
            if head > 8_192 && head * 2 > ports.count {
                ports.removeFirst(head)
                head = 0
            }
            return port
        }

        mutating func give(_ port: UInt16) { ports.append(port) }
    }

    /// An alive session, by the time it ends.
    private struct Ending: Comparable {
        var time: Int64
        var replay: Int
        static func < (a: Ending, b: Ending) -> Bool { a.time < b.time || (a.time == b.time && a.replay < b.replay) }
    }

    /// Replays for the arrivals (template, wished start), ids in start order.
    static func replays(arriving arrivals: [(template: TemplateCapture, start: Int64)],
                        footprints: [ObjectIdentifier: SessionFootprint], maxAlive: Int?) -> [SessionReplay] {
        let order = arrivals.indices.sorted { arrivals[$0].start < arrivals[$1].start || (arrivals[$0].start == arrivals[$1].start && $0 < $1) }
        var pools: [UInt32: PortPool] = [:]
        var alive = MinimumHeap<Ending>()
        var aliveCount = 0
        var replays: [SessionReplay] = []
        replays.reserveCapacity(arrivals.count)
        var clock: Int64 = 0
        var addressBase = 0
        func release(_ ending: Ending) {
            let replay = replays[ending.replay]
            for (relayed, address) in replay.template.relayAddresses.enumerated() {
                pools[address, default: PortPool()].give(replay.relayPort(relayed))
            }
            aliveCount -= 1
        }
        for index in order {
            let template = arrivals[index].template
            guard let footprint = footprints[ObjectIdentifier(template)] else { preconditionFailure("every template has a footprint") }
            var start = max(arrivals[index].start, clock)
            let needed = template.relayPortsNeeded
            while true {
                while let earliest = alive.minimum, earliest.time < start {
                    _ = alive.popMinimum()
                    release(earliest)
                }
                let slotFree = maxAlive.map { aliveCount < $0 } ?? true
                if slotFree && needed.allSatisfy({ pools[$0.key, default: PortPool()].available >= $0.value }) { break }
                guard let earliest = alive.minimum else {
                    preconditionFailure("\(template.name) needs more relay ports than one address has")
                }
                // A microsecond later: the capture's resolution, so the order survives in the file.
                start = max(start, earliest.time + 1_000)
            }
            var ports = [UInt16](repeating: 0, count: template.relayEndpoints.count)
            for (relayed, address) in template.relayAddresses.enumerated() {
                ports[relayed] = pools[address, default: PortPool()].take()
            }
            let id = replays.count
            replays.append(SessionReplay(id: id, template: template, start: start, relayBase: 0,
                                         relayPorts: ports, addressBase: addressBase, renamesIceAgents: true))
            addressBase += template.clientAddressCount
            alive.insert(Ending(time: start + footprint.aliveSpan, replay: id))
            aliveCount += 1
            clock = start
        }
        return replays
    }
}
