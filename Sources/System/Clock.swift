import Glibc

/// A moment on the wall clock (CLOCK_REALTIME), for what other machines read: timestamps in API
/// objects and log lines, files' modification times. Durations are measured with ContinuousClock
/// instead (monotonic).
public struct WallClockTime: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public init(unixNanoseconds: Int64) {
        seconds = unixNanoseconds / 1_000_000_000
        nanoseconds = Int32(unixNanoseconds % 1_000_000_000)
    }

    init(_ time: timespec) {
        self.init(seconds: Int64(time.tv_sec), nanoseconds: Int32(time.tv_nsec))
    }

    public static func now() -> WallClockTime {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return WallClockTime(now)
    }

    /// Nanoseconds since the epoch (what Go's `UnixNano` gives).
    public var unixNanoseconds: Int64 { seconds &* 1_000_000_000 &+ Int64(nanoseconds) }

    /// The calendar date and time of `seconds` in UTC (gmtime); nil beyond what it can represent.
    public var utc: UTCTime? {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return nil }
        return UTCTime(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
                       hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec))
    }

    /// The moment `utc` names, whole seconds (timegm, which also normalises out-of-range fields).
    public init(utc: UTCTime) {
        var parts = tm()
        parts.tm_year = Int32(truncatingIfNeeded: utc.year - 1900)
        parts.tm_mon = Int32(truncatingIfNeeded: utc.month - 1)
        parts.tm_mday = Int32(truncatingIfNeeded: utc.day)
        parts.tm_hour = Int32(truncatingIfNeeded: utc.hour)
        parts.tm_min = Int32(truncatingIfNeeded: utc.minute)
        parts.tm_sec = Int32(truncatingIfNeeded: utc.second)
        self.init(seconds: Int64(timegm(&parts)))
    }

    /// RFC 3339 in UTC with whole seconds, as Kubernetes writes `metav1.Time`: `2026-12-04T14:44:43Z`.
    public var rfc3339: String {
        guard let utc else { return "1970-01-01T00:00:00Z" }
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let paddedYear = String(repeating: "0", count: max(0, 4 - String(utc.year).count)) + String(utc.year)
        return "\(paddedYear)-\(two(utc.month))-\(two(utc.day))T\(two(utc.hour)):\(two(utc.minute)):\(two(utc.second))Z"
    }

    public static func < (a: WallClockTime, b: WallClockTime) -> Bool { (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds) }
}

/// A date and time of day in UTC, as the calendar writes it: month 1-12, day 1-31.
public struct UTCTime: Sendable, Hashable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }
}

/// Waiting on the calling thread.
public enum Clock {
    /// Blocks the calling thread for `duration` (a CNI call is one synchronous process: there is
    /// nothing else for the thread to do), resuming after a signal for what is left.
    public static func sleep(for duration: Duration) {
        guard duration > .zero else { return }
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(clamping: seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && Glibc.errno == EINTR { request = remaining }
    }
}

extension Duration {
    /// Whole milliseconds rounded up, clamped for poll(2) (a huge duration must not overflow).
    var pollMilliseconds: Int32 {
        let (millis, overflow) = components.seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow, millis < Int64(Int32.max) else { return Int32.max }
        return Int32(clamping: millis + (components.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }
}
