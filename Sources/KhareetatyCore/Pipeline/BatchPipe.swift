import Foundation

/// Runs a producer on a thread of its own and hands its batches over through a small bounded
/// queue, so that reading, cleaning and geocoding the next batch overlaps loading this one (the
/// caller's thread owns the database connection). Memory stays bounded: the producer waits while
/// `capacity` batches are queued. A producer error reaches the caller from `next()`; `close()`
/// stops the producer and waits for its thread, so nothing outlives the pipe's owner.
final class BatchPipe<Element: Sendable>: @unchecked Sendable {
    private struct Cancelled: Error {}

    private let condition = NSCondition()
    private var queue: [Element] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    private let capacity: Int
    private let exited = DispatchSemaphore(value: 0)
    private var closed = false

    init(capacity: Int = 2, produce: @escaping @Sendable (_ emit: (Element) throws -> Void) throws -> Void) {
        self.capacity = capacity
        let thread = Thread { [self] in
            do {
                try produce { try self.put($0) }
                finish(nil)
            } catch {
                finish(error is Cancelled ? nil : error)
            }
            exited.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func put(_ element: Element) throws {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        queue.append(element)
        condition.broadcast()
    }

    private func finish(_ error: (any Error)?) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch, nil when the producer is done; rethrows the producer's error.
    func next() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !finished { condition.wait() }
        if !queue.isEmpty {
            condition.broadcast()
            return queue.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the producer (if still running) and waits for its thread to end.
    func close() {
        guard !closed else { return }
        closed = true
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
        exited.wait()
    }

    deinit { close() }
}
