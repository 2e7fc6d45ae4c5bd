//! The Cloud Partner Portal API's calls, on the shared engine (`http::Engine`).

use std::time::Duration;

use super::SERVICE;
use super::offer::{OfferQuery, PutOffer};
use super::operation::{self, Operation};
use super::request::{ListQuery, OfferAction, OperationLocation};
use crate::error::{Error, Result};
use crate::http::poll::{self, ProgressSink, TokenSupplier, WaitOptions};
use crate::http::{
    Document, Engine, Log, Prepared, Sent, Settings, Shape, batch, header_retry_after, malformed, whole_body,
};
use crate::validate::Token;

/// Seconds between polls of an operation unless told otherwise.
pub const DEFAULT_POLL_INTERVAL_SECONDS: f64 = 5.0;

/// A successful cancel.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub outcome: super::answer::ActionOutcome,
    pub client_request_id: String,
}

/// Told each finished item of a batch (its input index); `Break` stops the batch.
pub type ResultSink<'a> = batch::ResultSink<'a, (OfferAction, Accepted)>;

impl poll::Progress for Operation {
    fn same_progress(&self, other: &Self) -> bool {
        Operation::same_progress(self, other)
    }
}

/// A Cloud Partner Portal client: the engine, and the API's calls.
#[derive(Debug)]
pub struct Client {
    engine: Engine,
}

impl Client {
    /// `settings` must be for `SERVICE`.
    pub fn new(settings: Settings) -> Self {
        Self { engine: Engine::new(settings) }
    }

    pub fn settings(&self) -> &Settings {
        self.engine.settings()
    }

    pub fn close(&self) {
        self.engine.close();
    }

    pub fn is_closed(&self) -> bool {
        self.engine.is_closed()
    }

    async fn send(&self, request: &Prepared, token: &Token, log: &dyn Log) -> Result<Sent> {
        self.engine.send(request, token, log).await
    }

    pub(super) fn base(&self) -> &url::Url {
        &self.engine.settings().base_url
    }

    /// Send a validated cancel, publish or go-live and map its answer.
    pub async fn submit(&self, call: &OfferAction, token: &Token, log: &dyn Log) -> Result<Accepted> {
        let sent = self.send(&call.prepare(self.base()), token, log).await?;
        let outcome = super::answer::action_outcome(&sent.response, self.base());
        if outcome.status == 202 && outcome.operation_location.is_none() {
            log.warning(&format!(
                "{} of {}/{} was accepted (202) but the answer names no operation location \
                 (client request id {})",
                call.action.as_str(),
                call.publisher,
                call.offer,
                sent.client_request_id
            ));
        }
        Ok(Accepted { outcome, client_request_id: sent.client_request_id })
    }

    /// Cancel many offers with at most `concurrency` calls in flight. Each item's outcome is kept
    /// in input order; a failed item (refused input, 404, ...) does not stop the others.
    pub async fn cancel_many(
        &self,
        calls: Vec<Result<OfferAction>>,
        token: &Token,
        concurrency: usize,
        log: &dyn Log,
        on_result: &mut ResultSink<'_>,
    ) -> Result<Vec<Result<(OfferAction, Accepted)>>> {
        let call =
            |call: OfferAction| async move { self.submit(&call, token, log).await.map(|done| (call, done)) };
        batch::bounded(calls, concurrency, call, on_result).await
    }

    /// One operation, by the location a cancel returned (absolute or relative), with the
    /// `Retry-After` the answer carried, if any.
    pub async fn get_operation(
        &self,
        location: &OperationLocation,
        token: &Token,
        log: &dyn Log,
    ) -> Result<(Operation, Option<Duration>)> {
        let prepared = location.prepare();
        let fallback_id = super::answer::operation_id(location.url());
        let sent = self.send(&prepared, token, log).await?;
        let operation = operation::parse_one(whole_body(&sent)?, fallback_id.as_deref())
            .map_err(|r| malformed(&sent, r))?;
        Ok((operation, header_retry_after(&sent.response)))
    }

    /// The operations of an offer, newest first as the service lists them.
    pub async fn list_operations(
        &self,
        query: &ListQuery,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Vec<Operation>> {
        let sent = self.send(&query.prepare(self.base()), token, log).await?;
        operation::parse_list(whole_body(&sent)?).map_err(|r| malformed(&sent, r))
    }

    /// One offer's definition (`offer::OfferQuery`), with its ETag.
    pub async fn get_offer(&self, query: &OfferQuery, token: &Token, log: &dyn Log) -> Result<Document> {
        self.document(&query.prepare(self.base()), Shape::Object, token, log).await
    }

    /// Create or update an offer under the concurrency rule `put.if_match`; the service answers
    /// with the stored offer and its new ETag.
    pub async fn put_offer(&self, put: &PutOffer, token: &Token, log: &dyn Log) -> Result<Document> {
        self.document(&put.prepare(self.base()), Shape::Object, token, log).await
    }

    /// A JSON list: the publisher's offer summaries (`offer::list`), the publishers
    /// (`offer::publishers`).
    pub async fn json_list(&self, prepared: &Prepared, token: &Token, log: &dyn Log) -> Result<Document> {
        self.document(prepared, Shape::List, token, log).await
    }

    /// An offer's status: `{"status", "messages", "steps"}`, read as an operation is.
    pub async fn offer_status(&self, prepared: &Prepared, token: &Token, log: &dyn Log) -> Result<Operation> {
        let sent = self.send(prepared, token, log).await?;
        operation::parse_one(whole_body(&sent)?, None).map_err(|r| malformed(&sent, r))
    }

    /// A 2xx answer whose body is a JSON document of `shape`.
    async fn document(
        &self,
        prepared: &Prepared,
        shape: Shape,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Document> {
        Document::read(&self.send(prepared, token, log).await?, shape)
    }

    /// Poll an operation until it ends (returned), `options.timeout` passes
    /// (`Error::WaitTimeout` with the last state seen), or it cannot be polled (`poll::until_done`).
    pub async fn wait(
        &self,
        location: &OperationLocation,
        tokens: &TokenSupplier<'_>,
        options: WaitOptions,
        log: &dyn Log,
        on_progress: &mut ProgressSink<'_, Operation>,
    ) -> Result<Operation> {
        let done =
            |op: &Operation| op.phase().is_terminal() || (options.until_review && op.waiting_for_review());
        let timed_out = |last: Option<Operation>| Error::WaitTimeout {
            after: options.timeout,
            last: last.map(crate::error::LastState::new),
        };
        let poll_once = |token: Token| async move { self.get_operation(location, &token, log).await };
        poll::until_done(
            location.url().as_str(),
            poll_once,
            &done,
            &timed_out,
            tokens,
            options,
            log,
            on_progress,
        )
        .await
    }
}

/// The engine's settings for the Cloud Partner Portal API.
pub fn settings(
    base_url: &str,
    timeout_seconds: f64,
    max_retries: u32,
    backoff_seconds: f64,
    user_agent: Option<&str>,
) -> Result<Settings> {
    Settings::new(&SERVICE, base_url, Some(timeout_seconds), max_retries, backoff_seconds, user_agent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::ControlFlow;
    use std::time::Instant;

    use crate::cpp::request::Action;
    use crate::http::Silent;
    use crate::http::batch::MAX_CONCURRENCY;

    fn token() -> Token {
        Token::new("t").unwrap()
    }

    /// The operation `op` on `client`'s service.
    fn op(client: &Client) -> OperationLocation {
        OperationLocation::new(&client.settings().base_url, "/api/operations/op").unwrap()
    }

    #[test]
    fn settings_validate_every_field() {
        let ok = settings(SERVICE.default_base_url, 30.0, 3, 0.5, Some("release-bot/2.1")).unwrap();
        assert_eq!(ok.user_agent, format!("release-bot/2.1 {}", crate::http::PRODUCT));
        assert!(matches!(
            settings(SERVICE.default_base_url, 0.0, 3, 0.5, None),
            Err(Error::InvalidArgument { field: "timeout", .. })
        ));
        assert!(matches!(
            settings(SERVICE.default_base_url, 1.0, 11, 0.5, None),
            Err(Error::InvalidArgument { field: "max_retries", .. })
        ));
        assert!(matches!(
            settings("http://example.com", 1.0, 1, 0.5, None),
            Err(Error::InvalidArgument { field: "base_url", .. })
        ));
        assert!(matches!(
            settings(SERVICE.default_base_url, 1.0, 1, 0.5, Some("a\nb")),
            Err(Error::InvalidArgument { field: "user_agent", .. })
        ));
    }

    #[test]
    fn a_batch_checks_its_concurrency_and_keeps_refused_items_in_place() {
        let client = Client::new(settings("http://127.0.0.1:9", 1.0, 0, 0.0, None).unwrap());
        let rt = crate::runtime::current_thread().unwrap();
        let mut ignore = |_: usize, _: &Result<(OfferAction, Accepted)>| ControlFlow::Continue(());
        for bad in [0, MAX_CONCURRENCY + 1] {
            let got = rt.block_on(client.cancel_many(vec![], &token(), bad, &Silent, &mut ignore));
            assert!(matches!(got, Err(Error::InvalidArgument { field: "concurrency", .. })));
        }
        let calls = vec![
            OfferAction::new(Action::Cancel, "a/b", "o", []),
            OfferAction::new(Action::Cancel, "p", "", []),
        ];
        let mut heard = Vec::new();
        let got = rt
            .block_on(client.cancel_many(calls, &token(), 4, &Silent, &mut |i, _| {
                heard.push(i);
                ControlFlow::Continue(())
            }))
            .unwrap();
        let fields: Vec<_> = got
            .iter()
            .map(|r| match r {
                Err(Error::InvalidArgument { field, .. }) => *field,
                _ => "sent",
            })
            .collect();
        assert_eq!(fields, ["publisher", "offer"]);
        heard.sort_unstable();
        assert_eq!(heard, [0, 1]);
    }

    /// A server on 127.0.0.1 answering each connection with the next of `answers` (the last
    /// repeats), as `HTTP/1.1 200` with a JSON body and `Connection: close`.
    fn serve(answers: Vec<&'static str>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for (n, stream) in listener.incoming().enumerate().take(50) {
                let Ok(mut stream) = stream else { return };
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let body = answers[n.min(answers.len() - 1)];
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
            }
        });
        base
    }

    const RUNNING_40: &str = r#"{"id": "op", "status": "running", "steps": [{"stepName": "s", "status": "inProgress", "progressPercentage": 40}]}"#;
    const RUNNING_60: &str = r#"{"id": "op", "status": "running", "steps": [{"stepName": "s", "status": "inProgress", "progressPercentage": 60}]}"#;
    const CANCELED: &str = r#"{"id": "op", "status": "Cancelled", "steps": []}"#;

    #[test]
    fn wait_polls_to_the_end_reporting_each_change_once() {
        let base = serve(vec![RUNNING_40, RUNNING_40, RUNNING_60, CANCELED]);
        let client = Client::new(settings(&base, 2.0, 0, 0.0, None).unwrap());
        let options = WaitOptions::new(5.0, 0.01).unwrap();
        let mut seen = Vec::new();
        let tokens = || Some(token());
        let done = crate::runtime::current_thread()
            .unwrap()
            .block_on(client.wait(&op(&client), &tokens, options, &Silent, &mut |op| {
                seen.push((op.status.clone(), op.steps.first().and_then(|s| s.progress)));
                ControlFlow::Continue(())
            }))
            .unwrap();
        assert!(done.phase() == crate::cpp::operation::Phase::Canceled);
        assert_eq!(
            seen,
            [("running".into(), Some(40.0)), ("running".into(), Some(60.0)), ("Cancelled".into(), None)]
        );
    }

    #[test]
    fn wait_times_out_with_the_last_state_and_a_callback_can_stop_it() {
        let base = serve(vec![RUNNING_40]);
        let client = Client::new(settings(&base, 2.0, 0, 0.0, None).unwrap());
        let rt = crate::runtime::current_thread().unwrap();
        let tokens = || Some(token());
        let options = WaitOptions::new(0.2, 0.05).unwrap();
        let got = rt.block_on(
            client.wait(&op(&client), &tokens, options, &Silent, &mut |_| ControlFlow::Continue(())),
        );
        match got {
            Err(Error::WaitTimeout { last: Some(op), .. }) => assert_eq!(op.status(), "running"),
            other => panic!("expected a wait timeout, got {other:?}"),
        }
        let got = rt
            .block_on(client.wait(&op(&client), &tokens, options, &Silent, &mut |_| ControlFlow::Break(())));
        assert_eq!(got, Err(Error::Stopped));
        let no_token = || None;
        let got = rt.block_on(
            client.wait(&op(&client), &no_token, options, &Silent, &mut |_| ControlFlow::Continue(())),
        );
        assert_eq!(got, Err(Error::Stopped));
    }

    #[test]
    fn a_poll_that_hangs_cannot_outlast_the_wait() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let _held: Vec<_> = listener.incoming().take(4).collect(); // accept, never answer
            std::thread::sleep(Duration::from_secs(10));
        });
        let client = Client::new(settings(&base, 5.0, 2, 0.0, None).unwrap());
        let tokens = || Some(token());
        let options = WaitOptions::new(0.3, 0.05).unwrap();
        let started = Instant::now();
        let got = crate::runtime::current_thread().unwrap().block_on(client.wait(
            &op(&client),
            &tokens,
            options,
            &Silent,
            &mut |_| ControlFlow::Continue(()),
        ));
        assert!(matches!(got, Err(Error::WaitTimeout { last: None, .. })), "{got:?}");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }

    /// A `Log` that keeps every debug line.
    #[derive(Default)]
    struct Lines(std::sync::Mutex<Vec<String>>);

    impl Log for Lines {
        fn debug_enabled(&self) -> bool {
            true
        }
        fn debug(&self, message: &str) {
            self.0.lock().unwrap().push(message.to_owned());
        }
        fn warning(&self, message: &str) {
            self.0.lock().unwrap().push(message.to_owned());
        }
    }

    impl Lines {
        fn count(&self, needle: &str) -> usize {
            self.0.lock().unwrap().iter().filter(|l| l.contains(needle)).count()
        }
    }

    const RESENT: &str = "sending again on a new connection";

    /// Run `f` on this test's own current-thread runtime (other tests drive the shared one) as a
    /// blocking call does (`catch_up`), or entering it bare, so that the pool cannot have seen
    /// what happened while nobody drove the runtime.
    fn enter<F: std::future::Future>(runtime: &tokio::runtime::Runtime, catch_up: bool, f: F) -> F::Output {
        if catch_up { crate::runtime::block_on_caught_up(runtime, f) } else { runtime.block_on(f) }
    }

    fn private_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    /// Longer than the test server's idle close (50 ms), with nobody driving the runtime.
    fn undriven_pause() {
        std::thread::sleep(Duration::from_millis(150));
    }

    #[test]
    fn a_get_lost_on_a_pooled_connection_the_server_closed_is_sent_once_more_on_a_new_one() {
        let server =
            crate::test_server::IdleClosingServer::start(Duration::from_millis(50), "200 OK", CANCELED);
        let client = Client::new(settings(&server.base, 2.0, 0, 0.0, None).unwrap());
        let log = Lines::default();
        let rt = private_runtime();
        let first = enter(&rt, false, client.get_operation(&op(&client), &token(), &log));
        undriven_pause();
        let second = enter(&rt, false, client.get_operation(&op(&client), &token(), &log));
        assert!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
        assert_eq!(log.count(RESENT), 1);
        // The lost request never reached the server: it saw two requests on two connections.
        assert_eq!((server.requests(), server.connections()), (2, 2));
    }

    #[test]
    fn a_cancel_lost_on_a_stale_pooled_connection_is_sent_again_since_cancel_is_idempotent() {
        let server =
            crate::test_server::IdleClosingServer::start(Duration::from_millis(50), "202 Accepted", "");
        let client = Client::new(settings(&server.base, 2.0, 0, 0.0, None).unwrap());
        let log = Lines::default();
        let call = OfferAction::new(Action::Cancel, "p", "o", []).unwrap();
        let rt = private_runtime();
        let first = enter(&rt, false, client.submit(&call, &token(), &log));
        undriven_pause();
        let second = enter(&rt, false, client.submit(&call, &token(), &log));
        assert_eq!(second.unwrap().outcome.status, 202, "{first:?}");
        assert_eq!(log.count(RESENT), 1);
        assert_eq!(server.requests(), 2);
    }

    #[test]
    fn entering_the_runtime_first_lets_the_pool_drop_connections_closed_while_idle() {
        let server =
            crate::test_server::IdleClosingServer::start(Duration::from_millis(50), "200 OK", CANCELED);
        let client = Client::new(settings(&server.base, 2.0, 0, 0.0, None).unwrap());
        let log = Lines::default();
        let rt = private_runtime();
        let first = enter(&rt, true, client.get_operation(&op(&client), &token(), &log));
        undriven_pause();
        let second = enter(&rt, true, client.get_operation(&op(&client), &token(), &log));
        assert!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
        assert_eq!(log.count(RESENT), 0, "the pool handed out a connection it could have known was closed");
        assert_eq!((server.requests(), server.connections()), (2, 2));
    }

    #[test]
    fn a_closed_client_refuses_before_sending() {
        let client = Client::new(settings("http://127.0.0.1:9", 1.0, 0, 0.0, None).unwrap());
        client.close();
        let call = OfferAction::new(Action::Cancel, "p", "o", []).unwrap();
        let got = crate::runtime::current_thread().unwrap().block_on(client.submit(&call, &token(), &Silent));
        assert_eq!(got, Err(Error::Closed));
    }
}
