//! CPU time of the benchmark process, shared by the login and sessions benchmarks.

use std::time::Duration;

/// CPU time of the whole process (every thread) so far.
pub(crate) fn cpu_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec.unsigned_abs(), t.tv_nsec.try_into().unwrap_or(0))
}
