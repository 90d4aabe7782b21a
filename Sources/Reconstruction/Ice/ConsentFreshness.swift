import Foundation
import NetworkVocabulary

// Consent freshness (RFC 7675 section 5.1): after nomination, each agent keeps
// sending checks on the selected pair (about every 5 s) and stops sending media
// when none got a response for 30 s (the consent timeout). Binding indications
// are keepalives (RFC 8445 section 11): they get no response, so they refresh
// NAT bindings but not consent.

extension IceSessionContext {
    /// RFC 7675 section 5.1: consent expires 30 s after the last response.
    static let consentTimeout = 30.0

    /// The consent checks and keepalives on the selected pair after it was
    /// nominated (or, without a nomination, after its first success); raises
    /// `ice-consent-gap` when checks stopped for longer than the consent timeout.
    func consentFreshness(on p: IcePairState, findings: inout FindingCollector) -> ConsentSummary? {
        guard let start = nominationTime(p) ?? p.dir.compactMap(\.firstSuccessTime).min() else { return nil }
        var checks = 0
        var intervals: [Double] = []
        var longest: (gap: Double, frame: Int)?
        for d in p.dir {
            var previous: CaptureTime?
            for (t, frame) in zip(d.requestTimes, d.requestFrames) where t > start {
                checks += 1
                if let previous {
                    let gap = t.seconds(since: previous)
                    intervals.append(gap)
                    if longest.map({ gap > $0.gap }) ?? true { longest = (gap, frame) }
                }
                previous = t
            }
        }
        let indications = p.indicationTimes.filter { $0 > start }.count
        guard checks + indications > 0 else { return nil }
        var consent = ConsentSummary(checks: checks, indications: indications, interval: DelayStatistics(samples: intervals),
                                     longestGap: longest?.gap, longestGapFrame: longest?.frame)
        consent.responses = p.dir.reduce(0) { $0 + $1.successTimes.filter { $0 > start }.count }
        if let longest, longest.gap > IceSessionContext.consentTimeout {
            let session = SessionRef.ice(self.session.id)
            findings.add(.warning, .iceConsentGap,
                         "\(session: session): \(String(format: "%.1f", longest.gap)) s without a consent check on the selected pair (up to frame \(longest.frame)); RFC 7675 revokes consent after 30 s without a response, so media would have stopped.",
                         frames: [longest.frame], session: session)
        }
        return consent
    }
}
