@testable import Renderers
import Testing

@Suite("Progress line text")
struct ProgressTextTests {
    @Test("byte counts in binary units, switching unit where the rounding does")
    func bytes() {
        #expect(ProgressText.bytes(0) == "0 B")
        #expect(ProgressText.bytes(1023) == "1023 B")
        #expect(ProgressText.bytes(1024) == "1.0 KiB")
        #expect(ProgressText.bytes(1536) == "1.5 KiB")
        #expect(ProgressText.bytes(1_048_575) == "1.0 MiB")
        #expect(ProgressText.bytes(270_214_044) == "257.7 MiB")
        #expect(ProgressText.bytes(3 << 30) == "3.0 GiB")
    }

    @Test("rates with about three significant digits")
    func rates() {
        #expect(ProgressText.rate(0) == "0")
        #expect(ProgressText.rate(950.4) == "950")
        #expect(ProgressText.rate(999.6) == "1.00k")
        #expect(ProgressText.rate(41_234) == "41.2k")
        #expect(ProgressText.rate(412_345) == "412k")
        #expect(ProgressText.rate(999_700) == "1.00M")
        #expect(ProgressText.rate(1_254_000) == "1.25M")
        #expect(ProgressText.rate(.nan) == "0")
    }

    @Test("durations rounded up")
    func durations() {
        #expect(ProgressText.duration(0) == "0s")
        #expect(ProgressText.duration(0.2) == "1s")
        #expect(ProgressText.duration(45) == "45s")
        #expect(ProgressText.duration(59.5) == "1m00s")
        #expect(ProgressText.duration(125) == "2m05s")
        #expect(ProgressText.duration(3720) == "1h02m")
        #expect(ProgressText.duration(.infinity) == "0s")
    }

    @Test("reading files: a quarter read in 2 s leaves 6 s")
    func reading() {
        #expect(ProgressText.reading(bytesRead: 1 << 20, totalBytes: 4 << 20, packets: 50_000, sessionsAlive: 7, elapsed: 2)
            == ["1.0 MiB of 4.0 MiB (25%)", "6s left", "25.0k packets/s", "7 sessions alive"])
        #expect(ProgressText.reading(bytesRead: 4 << 20, totalBytes: 4 << 20, packets: 200_000, sessionsAlive: 1, elapsed: 4)
            == ["4.0 MiB of 4.0 MiB (100%)", "0s left", "50.0k packets/s", "1 session alive"])
        // A pipe: no total, so no percentage and no time left.
        #expect(ProgressText.reading(bytesRead: 1 << 20, totalBytes: nil, packets: 50_000, sessionsAlive: nil, elapsed: 2)
            == ["1.0 MiB read", "25.0k packets/s"])
        // A file that grew while read is shown as complete, not past 100 %.
        #expect(ProgressText.reading(bytesRead: 5 << 20, totalBytes: 4 << 20, packets: 1, sessionsAlive: nil, elapsed: 1)[0]
            == "4.0 MiB of 4.0 MiB (100%)")
    }

    @Test("live capture")
    func live() {
        #expect(ProgressText.live(captured: 1_234_567, kernelDropped: 12, shed: 3, packetsPerSecond: 120_400)
            == ["captured 1234567", "kernel dropped 12", "shed 3", "120k packets/s"])
        #expect(ProgressText.live(captured: 5, kernelDropped: nil, shed: 0, packetsPerSecond: 5) == ["captured 5", "shed 0", "5 packets/s"])
    }

    @Test("a narrow terminal keeps whole parts from the front and the last column empty")
    func fitting() {
        let parts = ["1.0 MiB of 4.0 MiB (25%)", "6s left", "25.0k packets/s"]
        #expect(ProgressText.line(parts, columns: 80) == "1.0 MiB of 4.0 MiB (25%), 6s left, 25.0k packets/s")
        // 50 characters: they need 51 columns.
        #expect(ProgressText.line(parts, columns: 51) == "1.0 MiB of 4.0 MiB (25%), 6s left, 25.0k packets/s")
        #expect(ProgressText.line(parts, columns: 50) == "1.0 MiB of 4.0 MiB (25%), 6s left")
        #expect(ProgressText.line(parts, columns: 30) == "1.0 MiB of 4.0 MiB (25%)")
        #expect(ProgressText.line(parts, columns: 11) == "1.0 MiB of")
        #expect(ProgressText.line(parts, columns: 0) == "")
    }
}
