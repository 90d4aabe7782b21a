extension String {
    /// The NUL-terminated C string at the start of `buffer` (libpcap's `errbuf`,
    /// getnameinfo's host buffer). Invalid UTF-8 is repaired as `String(cString:)`
    /// does; a buffer without a NUL is read whole.
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
