//! [`ServerProcess`]: a test server's process, with a watchdog that cleans up if the test process dies without
//! dropping it, and a stop (SIGTERM, then SIGKILL) that waits for it.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::TestSupportError;

/// Kills the server and removes its directory if the test process dies without dropping it (killed,
/// `std::process::exit`, or a server kept in a `static`): it waits for end-of-file on its stdin, which only the
/// test process holds open. A normal drop kills this watchdog first.
const WATCHDOG_SCRIPT: &str = "read -r _ ; kill -TERM \"$1\" 2>/dev/null; i=0; \
     while [ \"$i\" -lt 250 ]; do s=$(cut -d' ' -f3 \"/proc/$1/stat\" 2>/dev/null); \
     { [ -z \"$s\" ] || [ \"$s\" = Z ]; } && break; sleep 0.02; i=$((i+1)); done; \
     [ \"$i\" -ge 250 ] && kill -KILL \"$1\" 2>/dev/null; rm -rf \"$2\"";

/// A running server and its watchdog.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    child: Child,
    watchdog: Option<Child>,
    stop_timeout: Duration,
}

impl ServerProcess {
    /// Starts `command` in `dir` with its stdout and stderr appended to `output`; its watchdog (named `name` in
    /// `ps`) removes `dir` if the test process dies.
    pub(crate) fn spawn(
        mut command: Command,
        dir: &Path,
        output: &Path,
        name: &str,
        stop_timeout: Duration,
    ) -> Result<Self, TestSupportError> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(output)
            .map_err(|e| TestSupportError::io(format!("opening {}", output.display()), e))?;
        let err = out.try_clone().map_err(|e| TestSupportError::io("duplicating a file handle", e))?;
        let program = command.get_program().to_string_lossy().into_owned();
        let child = command
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| TestSupportError::io(format!("starting {program}"), e))?;
        // Best effort: without `sh` there is no watchdog, and a normal drop still cleans up.
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg(name)
            .arg(child.id().to_string())
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        Ok(Self { child, watchdog, stop_timeout })
    }

    /// The exit status, if it has exited.
    pub(crate) fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then SIGKILL after the stop timeout; waits for the process. Idempotent.
    pub(crate) fn stop(&mut self) {
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        if self.try_wait().is_some() {
            return;
        }
        let pid = rustix::process::Pid::from_child(&self.child);
        if rustix::process::kill_process(pid, rustix::process::Signal::TERM).is_ok() {
            let deadline = Instant::now() + self.stop_timeout;
            while Instant::now() < deadline {
                match self.child.try_wait() {
                    Ok(Some(_)) => return,
                    Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                    Err(_) => break,
                }
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
