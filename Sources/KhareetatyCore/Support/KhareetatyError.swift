/// Process exit codes, as cron wrappers and schedulers rely on them (sysexits.h values).
public enum ExitCode: Int32, Sendable {
    case success = 0
    /// The run failed (a bug, a server-side error that retrying will not fix).
    case failure = 1
    /// Usage or configuration error: fix the command line or the config and run again.
    case usage = 2
    /// Data error: malformed input, or too many rejected rows (EX_DATAERR).
    case dataError = 65
    /// An input is missing, unreadable or not a regular file (EX_NOINPUT): nothing was started.
    case noInput = 66
    /// Temporary failure: database unreachable, lock held. Retrying later may succeed (EX_TEMPFAIL).
    case temporaryFailure = 75
    /// Stopped by SIGINT (Ctrl-C): rolled back, 128 + 2 as shells report it.
    case interrupted = 130
    /// Stopped by SIGTERM (systemd stop, Kubernetes eviction, timeout): rolled back, 128 + 15.
    case terminated = 143
}

/// An error that knows which exit code it should end the process with.
public protocol ExitCodeProviding: Error {
    var exitCode: ExitCode { get }
}
