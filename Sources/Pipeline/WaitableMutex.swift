import Foundation

/// State that threads share and may have to wait on: Synchronization's `Mutex`
/// with a condition variable (a `Mutex` cannot wait). The bounded queues
/// between a pipeline's threads (`messages --jobs`, `live`) are built on it.
///
/// `@unchecked Sendable` is sound: `state` is private and only reached inside
/// `withLock`, which holds `condition` (an NSCondition: a pthread mutex and
/// condition variable) for the whole access, and `State` is itself Sendable,
/// so nothing reachable from it escapes the lock unprotected.
package final class WaitableMutex<State: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var state: State

    package init(_ state: State) {
        self.state = state
    }

    /// Runs `body` with the lock held, then wakes every waiter so it re-checks.
    package func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return try body(&state)
    }

    /// Waits, the lock released meanwhile, until `ready(state)` holds or `deadline`
    /// passes, then runs `body` with the lock held (`body` checks which it was) and
    /// wakes every waiter.
    package func withLock<R>(waitingUntil ready: (State) -> Bool, deadline: Date? = nil,
                             _ body: (inout State) throws -> R) rethrows -> R {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        while !ready(state) {
            if let deadline {
                if !condition.wait(until: deadline) { break }
            } else {
                condition.wait()
            }
        }
        return try body(&state)
    }
}
