//! A TCP proxy between the app and PostgreSQL that cuts a connection during `COMMIT`: armed
//! with a marker (a one-time key the form sends, which the app binds into its transaction),
//! it forwards the `COMMIT` of the transaction that carried the marker to the server and then
//! drops the connection before the server's answer can reach the app. The server commits; the
//! app sees its connection lost during `COMMIT` — the "outcome unknown" of a real network.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// PostgreSQL's simple-query message for `COMMIT` (type `Q`, length 11, the text, NUL).
const COMMIT: &[u8] = b"Q\0\0\0\x0bCOMMIT\0";

#[derive(Debug, Default)]
struct Plan {
    /// Cut the `COMMIT` of a transaction whose bytes held this.
    marker: Option<Vec<u8>>,
    cuts: usize,
}

/// The proxy; `url` is the database URL to give the app.
#[derive(Clone)]
pub struct CommitCutter {
    plan: Arc<Mutex<Plan>>,
    pub url: String,
}

impl CommitCutter {
    /// Start a proxy in front of the PostgreSQL that `database_url` names.
    pub fn start(database_url: &str) -> CommitCutter {
        let (prefix, rest) = database_url.split_once('@').expect("user@host in the URL");
        let (host_port, path) = rest.split_once('/').expect("a database name");
        let upstream = host_port.to_owned();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let plan = Arc::new(Mutex::new(Plan::default()));
        let shared = plan.clone();
        // Its own thread and runtime: the app connects through it from blocking code (the pool,
        // migrations), which must never wait on the test's runtime.
        std::thread::Builder::new()
            .name("commit-cutter".to_owned())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("tokio listener");
                    while let Ok((client, _)) = listener.accept().await {
                        let upstream = upstream.clone();
                        let plan = shared.clone();
                        tokio::spawn(async move {
                            if let Ok(server) = TcpStream::connect(&upstream).await {
                                pump(client, server, plan).await;
                            }
                        });
                    }
                });
            })
            .expect("proxy thread");
        CommitCutter {
            plan,
            url: format!("{prefix}@127.0.0.1:{port}/{path}"),
        }
    }

    /// Cut the `COMMIT` of the next transaction that carries `marker`.
    pub fn arm(&self, marker: &str) {
        self.plan.lock().expect("plan").marker = Some(marker.as_bytes().to_vec());
    }

    /// How many connections were cut during `COMMIT`.
    pub fn cuts(&self) -> usize {
        self.plan.lock().expect("plan").cuts
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn pump(client: TcpStream, server: TcpStream, plan: Arc<Mutex<Plan>>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let (cut_tx, mut cut_rx) = tokio::sync::watch::channel(false);
    let down = tokio::spawn(async move {
        let mut buf = vec![0_u8; 16 * 1024];
        loop {
            tokio::select! {
                n = server_read.read(&mut buf) => match n {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if client_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                },
                _ = cut_rx.changed() => break,
            }
        }
        let _ = client_write.shutdown().await;
    });
    let mut buf = vec![0_u8; 16 * 1024];
    // The bytes seen since this connection's last COMMIT (bounded), to find the marker in.
    let mut since_commit: Vec<u8> = Vec::new();
    loop {
        let n = match client_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        since_commit.extend_from_slice(chunk);
        if let Some(at) = find(&since_commit, COMMIT) {
            let armed = {
                let mut p = plan.lock().expect("plan");
                let hit = p
                    .marker
                    .as_ref()
                    .is_some_and(|m| find(&since_commit[..at], m).is_some());
                if hit {
                    p.marker = None;
                    p.cuts += 1;
                }
                hit
            };
            if armed {
                // The COMMIT reaches the server; its answer never reaches the app.
                let _ = cut_tx.send(true);
                let _ = server_write.write_all(chunk).await;
                let _ = server_write.flush().await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                break;
            }
            since_commit.drain(..at + COMMIT.len());
        }
        if since_commit.len() > 1 << 20 {
            let keep = since_commit.len() - 4096;
            since_commit.drain(..keep);
        }
        if server_write.write_all(chunk).await.is_err() {
            break;
        }
    }
    let _ = server_write.shutdown().await;
    let _ = down.await;
}
