/// One step of the pipeline: takes a batch of `Input`, gives a batch of `Output`.
/// Stages hold their own state (counters, caches) and can be driven alone in a test with
/// in-memory batches; `then` composes two stages and the compiler checks that the types meet.
/// Each stage has its own types: clean turns `[RawRecord]` into an `IncidentBatch`, geocode an
/// `IncidentBatch` into a `PlacedBatch`, and load takes only a `PlacedBatch` — so a chain that
/// would load incidents never geocoded does not compile.
public protocol Stage {
    associatedtype Input
    associatedtype Output
    mutating func process(_ batch: Input) throws -> Output
    /// End of the stream: the stage completes what it holds (the load stage moves its staged
    /// rows into place). Default: nothing to do.
    mutating func finish() throws
}

extension Stage {
    public mutating func finish() throws {}
}

/// Two stages run one after the other.
public struct Chained<First: Stage, Second: Stage>: Stage where First.Output == Second.Input {
    public var first: First
    public var second: Second
    public mutating func process(_ batch: First.Input) throws -> Second.Output {
        try second.process(try first.process(batch))
    }
    public mutating func finish() throws {
        try first.finish()
        try second.finish()
    }
}

extension Stage {
    public func then<Next: Stage>(_ next: Next) -> Chained<Self, Next> where Next.Input == Output {
        Chained(first: self, second: next)
    }
}

/// A batch on its way through the stages: the records that go on, and the rejects to record.
public struct RecordBatch<Item: Sendable>: Sendable {
    public var incidents: [Item] = []
    public var rejects: [Reject] = []
    public init(incidents: [Item] = [], rejects: [Reject] = []) {
        self.incidents = incidents
        self.rejects = rejects
    }
}

/// Cleaned incidents (the clean stage's output).
public typealias IncidentBatch = RecordBatch<Incident>
/// Cleaned and placed incidents (the geocode stage's output, the only input the load stage takes).
public typealias PlacedBatch = RecordBatch<PlacedIncident>
