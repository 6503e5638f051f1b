import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Pushes a run's metrics to a Prometheus Pushgateway (where a batch job on Kubernetes has no
/// node_exporter beside it): `POST {base}/metrics/job/{job}/pipeline/{pipeline}` with the text
/// exposition, as Prometheus' own clients do; 10 s at most, never retried (the next run pushes).
struct Pushgateway {
    let base: String

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func push(_ text: String, job: String, pipeline: String) throws {
        func segment(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? s }
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        guard let url = URL(string: "\(trimmed)/metrics/job/\(segment(job))/pipeline/\(segment(pipeline))"), url.scheme == "http" || url.scheme == "https" else {
            throw Failure(description: "metrics.pushgateway is not an http(s) URL")
        }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.setValue("text/plain; version=0.0.4", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(text.utf8)
        final class Outcome: @unchecked Sendable { var status: Int?; var error: Error? }
        let outcome = Outcome(), done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { _, response, error in
            outcome.status = (response as? HTTPURLResponse)?.statusCode
            outcome.error = error
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + 15) == .success else { throw Failure(description: "no answer within 15 s") }
        if let error = outcome.error { throw Failure(description: error.localizedDescription) }
        guard let status = outcome.status, (200..<300).contains(status) else {
            throw Failure(description: "the gateway answered HTTP \(outcome.status.map(String.init) ?? "?")")
        }
    }

    /// The URL without any user information (a gateway behind basic auth has a password there).
    static func redacted(_ url: String) -> String {
        if url.isEmpty { return "" }
        guard var parts = URLComponents(string: url) else { return "(not shown)" }
        if parts.password != nil { parts.password = "***" }
        return parts.string ?? "(not shown)"
    }
}
