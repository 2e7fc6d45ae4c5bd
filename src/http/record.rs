//! Recording exchanges to a JSON Lines file, so that real answers can be replayed offline
//! (`FakePortal.from_recording`, `cloudpartner serve --replay`) or attached to a bug report.
//!
//! Each line is one exchange: the method, path and query, the request's headers and body, the
//! status, and the answer's headers and body. The `Authorization` header is never written, and
//! every copy of the token elsewhere (an echo in a body or header), and every SAS signature (an
//! image URI a configure sent), becomes `***` before the line is written. Lines are written whole under a lock, so threads never interleave them.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::http::Prepared;
use crate::response::RawResponse;

/// The environment variable that turns recording on for clients not told otherwise.
pub const RECORD_VARIABLE: &str = "CLOUDPARTNER_RECORD";

/// Appends exchanges to one file.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    file: Mutex<File>,
}

impl Recorder {
    /// Open (create, or append to) `path`; a file that cannot be opened is refused now.
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(|e| {
            Error::invalid("record", format!("cannot append to {:?}: {e}", path.display().to_string()))
        })?;
        Ok(Self { path: path.to_owned(), file: Mutex::new(file) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one exchange. A failed write is returned for the caller to log: recording must
    /// never fail the call it records.
    pub fn record(
        &self,
        request: &Prepared,
        sent: &HeaderMap,
        answer: &RawResponse,
        token: &str,
    ) -> std::io::Result<()> {
        let clean = |text: String| crate::redact::secrets(text, token);
        let path = match request.url.query() {
            Some(query) => format!("{}?{query}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        let line = json!({
            "method": request.method.as_str(),
            "base": request.url.origin().ascii_serialization(),
            "path": clean(path),
            "request_headers": headers(sent, &clean),
            "request_body": request.body.as_deref().map(|b| clean(String::from_utf8_lossy(b).into_owned())),
            "status": answer.status,
            "response_headers": headers(&answer.headers, &clean),
            "response_body": clean(String::from_utf8_lossy(&answer.body).into_owned()),
        });
        let mut text = line.to_string();
        text.push('\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        file.write_all(text.as_bytes())
    }
}

/// Headers as a JSON object (a repeated header's values joined by `, `), without `Authorization`.
fn headers(map: &HeaderMap, clean: &dyn Fn(String) -> String) -> Value {
    let mut out = Map::new();
    for name in map.keys() {
        if name == AUTHORIZATION {
            continue;
        }
        let values: Vec<String> =
            map.get_all(name).iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect();
        out.insert(name.as_str().to_owned(), Value::String(clean(values.join(", "))));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn a_line_per_exchange_without_the_token_anywhere() {
        let dir = std::env::temp_dir().join(format!("cloudpartner-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("exchanges.jsonl");
        let _ = std::fs::remove_file(&path);
        let recorder = Recorder::open(&path).unwrap();
        let token = "secret-token-0123456789";
        let request = Prepared {
            method: reqwest::Method::POST,
            url: "https://cloudpartner.azure.com/api/publishers/p/offers/o/cancel?api-version=2017-10-31"
                .parse()
                .unwrap(),
            body: Some(br#"{"metadata":{}}"#.to_vec()),
            idempotent: true,
            if_match: None,
            document: false,
        };
        let mut sent = HeaderMap::new();
        sent.insert(AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
        sent.insert("x-ms-client-request-id", HeaderValue::from_static("cid"));
        let mut received = HeaderMap::new();
        received.insert("location", HeaderValue::from_static("/api/operations/x"));
        let answer = RawResponse {
            status: 401,
            headers: received,
            body: format!("bad token {token}").into_bytes(),
            truncated: false,
            over_limit: None,
        };
        recorder.record(&request, &sent, &answer, token).unwrap();
        recorder.record(&request, &sent, &answer, token).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(token) && !text.to_ascii_lowercase().contains("authorization"), "{text}");
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["path"], "/api/publishers/p/offers/o/cancel?api-version=2017-10-31");
        assert_eq!(lines[0]["base"], "https://cloudpartner.azure.com");
        assert_eq!(lines[0]["status"], 401);
        assert_eq!(lines[0]["response_body"], "bad token ***");
        assert_eq!(lines[0]["response_headers"]["location"], "/api/operations/x");
        assert_eq!(lines[0]["request_headers"]["x-ms-client-request-id"], "cid");
        assert!(Recorder::open(&dir.join("no-such-dir").join("x.jsonl")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
