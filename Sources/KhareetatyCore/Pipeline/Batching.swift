import Foundation
import Readers

/// One batch of a source through the stages: how many records it read, what the stages made of
/// them, the seconds that took, and how far into the file the source is (for progress).
struct StagedBatch<Output: Sendable>: Sendable {
    var rowsRead: Int
    var output: Output
    var seconds: Double
    var bytesConsumed: Int
}

extension RecordSource {
    /// Reads every record in batches of `size` (the last one shorter), runs each batch through
    /// `stages` and hands the result to `emit` — the streaming loop of every run, in one place.
    func stream<S: Stage>(batchesOf size: Int, through stages: inout S, emit: (StagedBatch<S.Output>) throws -> Void) throws
    where S.Input == [RawRecord], S.Output: Sendable {
        var records: [RawRecord] = []
        records.reserveCapacity(size)
        var started = Date()
        while true {
            let record = try nextRecord()
            if let record { records.append(record) }
            if records.count >= size || (record == nil && !records.isEmpty) {
                FaultPoint.whileReading.reach()
                let output = try stages.process(records)
                try emit(StagedBatch(rowsRead: records.count, output: output, seconds: Date().timeIntervalSince(started), bytesConsumed: bytesConsumed))
                records.removeAll(keepingCapacity: true)
                started = Date()
            }
            if record == nil { return }
        }
    }
}
