//! A second server: the real binary in its own OS process, on the test app's database.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;

use super::{Browser, TestApp};

pub struct ChildServer {
    pub address: String,
    child: Child,
    /// Its standard output and error (the log), for a failing test to show.
    log: std::path::PathBuf,
}

impl ChildServer {
    /// The server's process id (for `/proc/PID/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A new browser-like client for this server (no cookies).
    pub fn browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// Send a signal (`"TERM"`, `"INT"`, `"KILL"`) to the server process.
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -{name} failed");
    }

    /// Wait (at most `within`) for the process to exit; its exit status, or `None` if it is
    /// still running.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the server wrote to standard error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestApp {
    /// Start the real binary on this app's database, and wait (bounded) until it answers.
    pub async fn spawn_process(&self) -> ChildServer {
        self.spawn_process_with(&[]).await
    }

    /// [`TestApp::spawn_process`] with more environment (`NEIGHBORBID_*` settings, `RUST_LOG`).
    pub async fn spawn_process_with(&self, env: &[(&str, &str)]) -> ChildServer {
        let port = super::free_port();
        let data = tempfile::Builder::new()
            .prefix("nb-proc-")
            .tempdir()
            .expect("dir")
            .keep();
        let log = data.join("server.log");
        let out = std::fs::File::create(&log).expect("a log file");
        let err = out.try_clone().expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_neighborbid"))
            .arg("serve")
            .env("DATABASE_URL", self.database_url())
            .env("NEIGHBORBID_DATA_DIR", &data)
            .env("NEIGHBORBID_BIND", format!("127.0.0.1:{port}"))
            .env("NEIGHBORBID_WORKERS", "2")
            // As in-process test apps: auctions end seconds after their last bids.
            .env("NEIGHBORBID_SOFT_CLOSE_SECS", "0")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start a second server");
        let server = ChildServer {
            address: format!("http://127.0.0.1:{port}"),
            child,
            log,
        };
        let probe = server.browser();
        for _ in 0..200 {
            // Refused connections are expected until it listens.
            if let Ok(r) = probe.client.get(probe.url("/healthz")).send().await {
                if r.status() == StatusCode::OK {
                    return server;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the second server did not start");
    }
}
