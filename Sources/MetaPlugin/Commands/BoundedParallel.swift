import Synchronization
import System

/// Jobs started in a fixed order with at most `width` of them running at once, each on a thread
/// of its own. A delegate is a process we only wait on, so the bound is how many plugins may
/// touch the pod side by side, not how many cores there are. With a width of 1 every job runs
/// on the calling thread, exactly as a plain loop would.
struct BoundedParallel: Sendable {
    /// What a failed job means for the jobs not started yet.
    enum AfterFailure: Sendable {
        /// ADD: nothing new starts; the jobs already running are waited for.
        case startNoMore
        /// Teardown: every job is tried, whatever failed before it.
        case startTheRest
    }

    let width: Int
    let afterFailure: AfterFailure

    /// Runs `job(0)`, `job(1)`, ... `job(count - 1)`, started in that order, and returns when none
    /// is running. Each outcome is at its job's position, whatever order they finished in; nil
    /// for a job never started.
    func run<Value: Sendable, Failure: Error>(_ count: Int, _ job: @escaping @Sendable (Int) -> Result<Value, Failure>) -> [Result<Value, Failure>?] {
        guard min(width, count) > 1 else { return inOrder(count, job) }
        let board = Board<Value, Failure>(count: count, afterFailure: afterFailure)
        let work: @Sendable () -> Void = {
            while let position = board.nextStart() { board.finish(position, job(position)) }
        }
        let helpers = (0..<max(0, min(width, count) - 1)).map { _ in Thread(work) }
        work()
        helpers.forEach { $0.join() }
        return board.outcomes
    }

    /// One at a time on the calling thread, a plain loop: no shared board, so the default
    /// (`attachConcurrency` 1) pays nothing for the parallel path, not even the runtime's
    /// instantiation of the board's generic types, which costs a static binary's start-up.
    private func inOrder<Value: Sendable, Failure: Error>(_ count: Int, _ job: (Int) -> Result<Value, Failure>) -> [Result<Value, Failure>?] {
        var outcomes = [Result<Value, Failure>?](repeating: nil, count: count)
        for position in 0..<count {
            let outcome = job(position)
            outcomes[position] = outcome
            if case .failure = outcome, afterFailure == .startNoMore { break }
        }
        return outcomes
    }
}

/// What the threads of one `run` share: the next job to start, whether starting has stopped,
/// and the outcomes so far.
private final class Board<Value: Sendable, Failure: Error>: Sendable {
    private struct State {
        var next = 0
        var stopped = false
        var outcomes: [Result<Value, Failure>?]
    }

    private let count: Int
    private let afterFailure: BoundedParallel.AfterFailure
    private let state: Mutex<State>

    init(count: Int, afterFailure: BoundedParallel.AfterFailure) {
        self.count = count
        self.afterFailure = afterFailure
        state = Mutex(State(outcomes: Array(repeating: nil, count: count)))
    }

    /// The position of the next job to start, or nil when there is none (all started, or stopped).
    func nextStart() -> Int? {
        state.withLock { state in
            guard !state.stopped, state.next < count else { return nil }
            defer { state.next += 1 }
            return state.next
        }
    }

    func finish(_ position: Int, _ outcome: Result<Value, Failure>) {
        state.withLock { state in
            state.outcomes[position] = outcome
            if case .failure = outcome, afterFailure == .startNoMore { state.stopped = true }
        }
    }

    var outcomes: [Result<Value, Failure>?] { state.withLock { $0.outcomes } }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { true } else { false }
    }
}
