import Foundation

/// Named points in a run where the fault tests interfere: `kill -9`, a database restart, a lost
/// archive directory. Inert unless `KHAREETATY_TEST_FAULT` names the point: then the run announces
/// it on stderr and waits there — `KHAREETATY_TEST_FAULT_PAUSE` seconds, else until killed.
/// Only the fault tests set these (their prefix is reserved for tests).
enum FaultPoint: String {
    case afterLedgerStart = "after_ledger_start"
    case whileReading = "while_reading"
    case midCopy = "mid_copy"
    case beforeFinish = "before_finish"
    case beforeCommit = "before_commit"
    case backfillAfterChunk = "backfill_after_chunk"
    case workerMidChunk = "worker_mid_chunk"

    private static let armed = ProcessInfo.processInfo.environment["KHAREETATY_TEST_FAULT"]
    private static let pause = ProcessInfo.processInfo.environment["KHAREETATY_TEST_FAULT_PAUSE"].flatMap(Double.init) ?? 600

    func reach() {
        guard Self.armed == rawValue else { return }
        FileHandle.standardError.write(Data("fault point \(rawValue) reached\n".utf8))
        // In slices, so a signal's cancellation ends the wait as it would end real work.
        let until = Date().addingTimeInterval(Self.pause)
        while Date() < until, Cancellation.receivedSignal == nil { Thread.sleep(forTimeInterval: 0.05) }
    }
}
