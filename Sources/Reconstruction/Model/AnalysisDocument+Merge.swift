/// Documents of several capture files analysed apart (`--jobs`), in file order, as one:
/// sessions do not join across files, ids are renumbered in file order, lists are
/// concatenated in file order.
extension AnalysisDocument {
    /// One run keeps the first 50,000 transaction summaries (TransactionMatcher.maxKeptSummaries);
    /// so does the merge, or N files would print N times as many as one stream.
    public static let maxMergedTransactions = 50_000

    public static func merged(_ docs: [AnalysisDocument]) -> AnalysisDocument {
        guard docs.count > 1 else { return docs.first ?? AnalysisDocument() }
        var out = AnalysisDocument()
        var base = SessionIdOffsets()
        var findings: [Finding] = []
        for (fileIndex, doc) in docs.enumerated() {
            out.captures += doc.captures
            out.stats.add(doc.stats)
            for var a in doc.allocations {
                a.id += base.allocation
                if fileIndex > 0 {
                    for k in a.timeline.indices where a.timeline[k].fileIndex == nil { a.timeline[k].fileIndex = fileIndex }
                }
                out.allocations.append(a)
            }
            for var b in doc.bindings {
                b.id += base.binding
                out.bindings.append(b)
            }
            for var s in doc.iceSessions {
                s.id += base.ice
                out.iceSessions.append(s)
            }
            out.natMappings += doc.natMappings
            out.sipCalls += doc.sipCalls
            out.transactions += doc.transactions
            findings += doc.findings.map { $0.renumbered(by: base) }
            base.allocation += doc.allocations.map(\.id).max() ?? 0
            base.binding += doc.bindings.map(\.id).max() ?? 0
            base.ice += doc.iceSessions.map(\.id).max() ?? 0
        }
        out.transactions.sort { $0.firstRequest < $1.firstRequest }
        if out.transactions.count > maxMergedTransactions { out.transactions.removeLast(out.transactions.count - maxMergedTransactions) }
        // FindingCollector's order: severity first (stable within a severity: file order).
        out.findings = findings.enumerated().sorted { a, b in
            a.element.severity != b.element.severity ? a.element.severity > b.element.severity : a.offset < b.offset
        }.map(\.element)
        return out
    }
}

/// What is added to each kind of session id when documents are merged.
public struct SessionIdOffsets: Sendable {
    public var allocation = 0
    public var binding = 0
    public var ice = 0

    public init() {}
}

extension AnalysisStats {
    public mutating func add(_ d: AnalysisStats) {
        packets += d.packets
        if let t = d.firstTime { firstTime = min(firstTime ?? t, t) }
        if let t = d.lastTime { lastTime = max(lastTime ?? t, t) }
        stunMessages += d.stunMessages
        classicStunMessages += d.classicStunMessages
        channelDataFrames += d.channelDataFrames
        malformed += d.malformed
        nestedMessages += d.nestedMessages
        icmpErrors += d.icmpErrors
        transactions += d.transactions
        unansweredTransactions += d.unansweredTransactions
        retransmissions += d.retransmissions
        messagesByMethod.merge(d.messagesByMethod, uniquingKeysWith: +)
        errorCodes.merge(d.errorCodes, uniquingKeysWith: +)
        evicted.add(d.evicted)
    }
}

extension EvictionCounters {
    public mutating func add(_ d: EvictionCounters) {
        transactions += d.transactions
        allocations += d.allocations
        bindings += d.bindings
        iceSessions += d.iceSessions
        peerLegDatagrams += d.peerLegDatagrams
        tcpStreams += d.tcpStreams
        ipFragments += d.ipFragments
        turnFiveTuples += d.turnFiveTuples
        allocationDetail += d.allocationDetail
    }
}
