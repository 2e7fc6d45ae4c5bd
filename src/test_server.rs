//! A keep-alive HTTP/1.1 server on 127.0.0.1 for the core's tests: it answers every request with
//! the same answer and closes a connection that stays idle longer than `idle_close`, as load
//! balancers do. Bounded: it stops accepting after `MAX_CONNECTIONS`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const MAX_CONNECTIONS: usize = 64;

pub struct IdleClosingServer {
    pub base: String,
    pub requests: Arc<AtomicUsize>,
    pub connections: Arc<AtomicUsize>,
}

impl IdleClosingServer {
    pub fn start(idle_close: Duration, status_line: &'static str, body: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let (req, conns) = (requests.clone(), connections.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().take(MAX_CONNECTIONS) {
                let Ok(stream) = stream else { return };
                conns.fetch_add(1, Ordering::SeqCst);
                let req = req.clone();
                std::thread::spawn(move || serve(stream, idle_close, status_line, body, &req));
            }
        });
        Self { base, requests, connections }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn serve(stream: TcpStream, idle_close: Duration, status_line: &str, body: &str, requests: &AtomicUsize) {
    let _ = stream.set_read_timeout(Some(idle_close));
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        // The request line and headers; a timeout or EOF here closes the idle connection.
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut request_body = vec![0u8; length];
        if reader.read_exact(&mut request_body).is_err() {
            return;
        }
        requests.fetch_add(1, Ordering::SeqCst);
        let answer = format!(
            "HTTP/1.1 {status_line}\r\nContent-Type: application/json\r\nLocation: /api/operations/op\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}
