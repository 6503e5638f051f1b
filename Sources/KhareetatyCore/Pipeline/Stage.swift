/// One step of the pipeline: takes a batch of `Input`, gives a batch of `Output`.
/// Stages hold their own state (counters, caches) and can be driven alone in a test with
/// in-memory batches; `then` composes two stages and the compiler checks that the types meet.
public protocol Stage {
    associatedtype Input
    associatedtype Output
    mutating func process(_ batch: Input) throws -> Output
}

/// Two stages run one after the other.
public struct Chained<First: Stage, Second: Stage>: Stage where First.Output == Second.Input {
    public var first: First
    public var second: Second
    public mutating func process(_ batch: First.Input) throws -> Second.Output {
        try second.process(try first.process(batch))
    }
}

extension Stage {
    public func then<Next: Stage>(_ next: Next) -> Chained<Self, Next> where Next.Input == Output {
        Chained(first: self, second: next)
    }
}
