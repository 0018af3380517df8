import System
import Testing

@Suite("Wall clock and UTC")
struct ClockTests {
    @Test(arguments: [
        (Int64(0), UTCTime(year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0), "1970-01-01T00:00:00Z"),
        (1_796_395_483, UTCTime(year: 2026, month: 12, day: 4, hour: 14, minute: 44, second: 43), "2026-12-04T14:44:43Z"),
        (1_709_208_000, UTCTime(year: 2024, month: 2, day: 29, hour: 12, minute: 0, second: 0), "2024-02-29T12:00:00Z"),
        (-1, UTCTime(year: 1969, month: 12, day: 31, hour: 23, minute: 59, second: 59), "1969-12-31T23:59:59Z"),
        (253_402_300_799, UTCTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59), "9999-12-31T23:59:59Z"),
    ])
    func utcIsTheCalendarBothWays(seconds: Int64, utc: UTCTime, rfc3339: String) {
        let time = WallClockTime(seconds: seconds, nanoseconds: 999_999_999)
        #expect(time.utc == utc)
        #expect(time.rfc3339 == rfc3339)
        #expect(WallClockTime(utc: utc) == WallClockTime(seconds: seconds))
    }

    @Test func sleepWaitsAtLeastItsDuration() {
        let started = ContinuousClock.now
        Clock.sleep(for: .milliseconds(30))
        #expect(ContinuousClock.now - started >= .milliseconds(30))
    }
}
