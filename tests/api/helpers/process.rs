//! A second server: the real binary in its own OS process, on the test app's database.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;

use super::{Browser, TestApp};

pub struct ChildServer {
    pub address: String,
    child: Child,
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
        let port = super::free_port();
        let data = tempfile::Builder::new()
            .prefix("nb-proc-")
            .tempdir()
            .expect("dir")
            .keep();
        let child = Command::new(env!("CARGO_BIN_EXE_neighborbid"))
            .arg("serve")
            .env("DATABASE_URL", self.database_url())
            .env("NEIGHBORBID_DATA_DIR", &data)
            .env("NEIGHBORBID_BIND", format!("127.0.0.1:{port}"))
            .env("NEIGHBORBID_WORKERS", "2")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a second server");
        let server = ChildServer {
            address: format!("http://127.0.0.1:{port}"),
            child,
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
