extension DelayStatistics {
    /// Median, 95th percentile (nearest rank) and maximum of a sample; nil when empty.
    public init?(samples input: [Double]) {
        guard !input.isEmpty else { return nil }
        let s = input.sorted()
        func rank(_ q: Double) -> Double {
            let idx = Int((q * Double(s.count)).rounded(.up)) - 1
            return s[Swift.min(Swift.max(idx, 0), s.count - 1)]
        }
        let median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        self.init(samples: s.count, median: median, p95: rank(0.95), max: s[s.count - 1])
    }
}
