//! Reliability of the request path: faults on the wire, retries and their
//! budget, duplicate safety, path guards, redaction, tracing, cancellation
//! and a load run, each against a server started here on 127.0.0.1.
//!
//! The servers are [`FaultServer`]s: raw HTTP/1.1 over a tokio
//! `TcpListener`, so that a test can do what a well-behaved HTTP server
//! cannot (reset a connection before or after reading the request, cut a
//! body short, never answer). Backoff never really waits: clients here run on
//! [`FakeClock`], whose `sleep` returns at once and moves its time forward.

mod dedup;
mod echoes;
mod faults;
mod guards;
mod lifecycle;
mod load;
mod observability;
mod oversize;
mod redirects;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use qstash::clock::{Clock, Sleep};
use qstash::{AuthMode, Client, ClientBuilder, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

pub const TOKEN: &str = "secret-token-that-must-never-show";
pub const DESTINATION: &str = "https://example.com/hook";

/// Time that moves only when slept: every wait the retry loop makes is
/// recorded, and none takes real time.
#[derive(Debug, Clone)]
pub struct FakeClock {
    inner: Arc<FakeClockInner>,
}

#[derive(Debug)]
struct FakeClockInner {
    origin: Instant,
    wall_origin: SystemTime,
    offset: Mutex<Duration>,
    sleeps: Mutex<Vec<Duration>>,
}

/// What the fake clock's wall time starts at, in unix seconds.
pub const FAKE_NOW: u64 = 1_800_000_000;

impl Default for FakeClock {
    fn default() -> Self {
        FakeClock::new()
    }
}

impl FakeClock {
    pub fn new() -> FakeClock {
        FakeClock {
            inner: Arc::new(FakeClockInner {
                origin: Instant::now(),
                wall_origin: UNIX_EPOCH + Duration::from_secs(FAKE_NOW),
                offset: Mutex::new(Duration::ZERO),
                sleeps: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Every wait so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.inner.sleeps.lock().unwrap().clone()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> SystemTime {
        self.inner.wall_origin + *self.inner.offset.lock().unwrap()
    }

    fn instant(&self) -> Instant {
        self.inner.origin + *self.inner.offset.lock().unwrap()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        *self.inner.offset.lock().unwrap() += duration;
        self.inner.sleeps.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// What the server does with one request (or connection).
#[derive(Debug, Clone)]
pub enum Action {
    /// For a new connection: read its requests (any other action than
    /// [`ResetBeforeRead`](Action::ResetBeforeRead) does the same).
    Accept,
    /// Answer with this status, headers and body.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Close the connection without reading the request (the kernel resets
    /// it, since unread bytes are pending).
    ResetBeforeRead,
    /// Read the whole request, record it, then close without answering: the
    /// request arrived, the answer is lost.
    ResetAfterRead,
    /// Read the request and never answer; the connection stays open until
    /// the client gives up.
    Hang,
    /// Send headers declaring `declared` bytes of body, then only `body`,
    /// then close.
    Truncated { declared: usize, body: Vec<u8> },
    /// Write `head` (raw bytes: status line, headers, whatever a hostile
    /// server sends), then `chunk` over and over, `pause` apart, until the
    /// client goes away: an endless body, an endless head, a slow body.
    Stream {
        head: Vec<u8>,
        chunk: Vec<u8>,
        pause: Option<Duration>,
    },
}

impl Action {
    pub fn status(status: u16) -> Action {
        Action::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn json(status: u16, body: serde_json::Value) -> Action {
        Action::Respond {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Action {
        if let Action::Respond { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

/// A request as the server read it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub target: String,
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

type Handler = dyn Fn(usize, Option<&Received>) -> Action + Send + Sync;

/// A scripted HTTP/1.1 server. The handler sees the number of the
/// connection-or-request (0, 1, …) and the request; for
/// [`Action::ResetBeforeRead`] it is asked once per new connection with no
/// request, before anything is read.
pub struct FaultServer {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    connections: Arc<AtomicUsize>,
    /// One message per request read, for tests that must act while a
    /// request is in flight.
    pub arrivals: tokio::sync::Mutex<mpsc::UnboundedReceiver<()>>,
}

impl FaultServer {
    /// Starts a server; `handler(n, request)` decides each answer.
    /// `handler(n, None)` is asked when a connection opens: returning
    /// [`Action::ResetBeforeRead`] drops it unread, anything else reads on.
    pub async fn start(
        handler: impl Fn(usize, Option<&Received>) -> Action + Send + Sync + 'static,
    ) -> FaultServer {
        FaultServer::start_on(&tokio::runtime::Handle::current(), handler)
    }

    /// [`start`](Self::start) on another runtime, so that its work (and
    /// its memory, see [`heap`]) stays off the client's threads.
    pub fn start_on(
        runtime: &tokio::runtime::Handle,
        handler: impl Fn(usize, Option<&Received>) -> Action + Send + Sync + 'static,
    ) -> FaultServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let listener = {
            let _inside = runtime.enter();
            TcpListener::from_std(listener).expect("a tokio listener")
        };
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (arrived, arrivals) = mpsc::unbounded_channel();
        {
            let received = received.clone();
            let connections = connections.clone();
            runtime.spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let connection = connections.fetch_add(1, Ordering::SeqCst);
                    let (received, handler, counter, arrived) = (
                        received.clone(),
                        handler.clone(),
                        counter.clone(),
                        arrived.clone(),
                    );
                    tokio::spawn(async move {
                        if let Action::ResetBeforeRead = handler(connection, None) {
                            drop(stream);
                            return;
                        }
                        serve(stream, &received, &*handler, &counter, &arrived).await;
                    });
                }
            });
        }
        FaultServer {
            url,
            received,
            connections,
            arrivals: tokio::sync::Mutex::new(arrivals),
        }
    }

    /// A server answering every request the same way.
    pub async fn always(action: Action) -> FaultServer {
        FaultServer::start(move |_, request| match request {
            None => Action::Accept,
            Some(_) => action.clone(),
        })
        .await
    }

    /// Waits until the server has read one more request.
    pub async fn arrival(&self) {
        self.arrivals.lock().await.recv().await;
    }

    /// Every request read so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// A client for this server with [`TOKEN`], bearer auth, retries on the
    /// fake clock without jitter (waits exact), and a short timeout.
    pub fn client(&self, clock: &FakeClock) -> Client {
        self.builder(clock).build().expect("client")
    }

    pub fn builder(&self, clock: &FakeClock) -> ClientBuilder {
        Client::builder()
            .token(TOKEN)
            .auth_mode(AuthMode::Bearer)
            .base_url(&self.url)
            .timeout(Duration::from_millis(500))
            .retry(
                RetryPolicy::default()
                    .jitter(false)
                    .initial_delay(Duration::from_millis(100))
                    .clock(clock.clone()),
            )
    }
}

async fn serve(
    mut stream: TcpStream,
    received: &Mutex<Vec<Received>>,
    handler: &Handler,
    counter: &AtomicUsize,
    arrived: &mpsc::UnboundedSender<()>,
) {
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        received.lock().unwrap().push(request.clone());
        let _ = arrived.send(());
        let n = counter.fetch_add(1, Ordering::SeqCst);
        match handler(n, Some(&request)) {
            Action::Respond {
                status,
                headers,
                body,
            } => {
                let mut head = format!(
                    "HTTP/1.1 {status} Whatever\r\ncontent-length: {}\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                if stream.write_all(head.as_bytes()).await.is_err()
                    || stream.write_all(&body).await.is_err()
                {
                    return;
                }
            }
            Action::Accept | Action::ResetBeforeRead | Action::ResetAfterRead => return,
            Action::Hang => {
                // Until the client closes its end.
                let mut sink = Vec::with_capacity(1024);
                while matches!(stream.read_buf(&mut sink).await, Ok(n) if n > 0) {
                    sink.clear();
                }
                return;
            }
            Action::Stream { head, chunk, pause } => {
                if stream.write_all(&head).await.is_err() {
                    return;
                }
                while stream.write_all(&chunk).await.is_ok() {
                    if let Some(pause) = pause {
                        tokio::time::sleep(pause).await;
                    }
                }
                return;
            }
            Action::Truncated { declared, body } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                return;
            }
        }
    }
}

/// Reads one request (headers, then a `content-length` body); `None` at EOF.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Received> {
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        // Into the heap buffer: an array here would live in every
        // connection's future and dominate the load test's memory.
        buffer.reserve(8192);
        if stream.read_buf(buffer).await.ok()? == 0 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let target = request_line.next()?.to_string();
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    while buffer.len() < body_start + length {
        buffer.reserve(body_start + length - buffer.len());
        if stream.read_buf(buffer).await.ok()? == 0 {
            return None;
        }
    }
    let body = buffer[body_start..body_start + length].to_vec();
    buffer.drain(..body_start + length);
    Some(Received {
        method,
        target,
        headers,
        body,
    })
}

/// Heap use of the client side: a counting allocator that leaves out
/// threads marked as the server's, so the load test can tell what the
/// client holds at its peak apart from the in-process server.
pub mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;
    use std::sync::atomic::{AtomicIsize, Ordering};

    pub struct Counting;

    static LIVE: AtomicIsize = AtomicIsize::new(0);
    static PEAK: AtomicIsize = AtomicIsize::new(0);

    thread_local! {
        static SERVER: Cell<bool> = const { Cell::new(false) };
        /// Live bytes and their peak, counted for this thread alone: for
        /// tests that run the client on their own thread while other tests
        /// run beside them.
        static HERE: Cell<(isize, isize)> = const { Cell::new((0, 0)) };
    }

    fn counted() -> bool {
        // During thread teardown the flag may be gone: not counted.
        SERVER.try_with(|server| !server.get()).unwrap_or(false)
    }

    fn add(bytes: isize) {
        let now = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
        PEAK.fetch_max(now, Ordering::Relaxed);
        let _ = HERE.try_with(|here| {
            let (live, peak) = here.get();
            here.set((live + bytes, peak.max(live + bytes)));
        });
    }

    // SAFETY: every call goes to `System` unchanged; only counters move.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let pointer = unsafe { System.alloc(layout) };
            if !pointer.is_null() && counted() {
                add(layout.size() as isize);
            }
            pointer
        }

        unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
            unsafe { System.dealloc(pointer, layout) };
            if counted() {
                add(-(layout.size() as isize));
            }
        }

        unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
            let moved = unsafe { System.realloc(pointer, layout, size) };
            if !moved.is_null() && counted() {
                add(size as isize - layout.size() as isize);
            }
            moved
        }
    }

    /// Marks the calling thread as the server's: its allocations are not counted.
    pub fn mark_server_thread() {
        SERVER.with(|server| server.set(true));
    }

    /// Starts a new peak from what is live now; returns that baseline.
    pub fn reset_peak() -> isize {
        let live = LIVE.load(Ordering::Relaxed);
        PEAK.store(live, Ordering::Relaxed);
        live
    }

    /// The most bytes live on counted threads since [`reset_peak`].
    pub fn peak() -> isize {
        PEAK.load(Ordering::Relaxed)
    }

    /// Starts a new peak of this thread's own count; returns what is live
    /// on it now. Memory this thread frees that another allocated lowers
    /// its count, so the figure can only understate a growth that other
    /// threads pay for, never invent one.
    pub fn reset_thread_peak() -> isize {
        HERE.with(|here| {
            let (live, _) = here.get();
            here.set((live, live));
            live
        })
    }

    /// The most bytes live on this thread since [`reset_thread_peak`].
    pub fn thread_peak() -> isize {
        HERE.with(|here| here.get().1)
    }
}

#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;

/// A publish through the generated builder, its error as `qstash::Error`.
pub async fn publish(
    client: &Client,
    body: &str,
) -> Result<qstash::types::PublishMessageResponse, qstash::Error> {
    let call = client
        .api()
        .publish_message()
        .destination(DESTINATION)
        .content_type("text/plain")
        .body(body.to_string())
        .send();
    match call.await {
        Ok(response) => Ok(response.into_inner()),
        Err(error) => Err(qstash::Error::from_api(error).await),
    }
}

/// `GET /v2/queues`, a call safe to repeat.
pub async fn list_queues(client: &Client) -> Result<Vec<qstash::types::Queue>, qstash::Error> {
    match client.api().list_queues().send().await {
        Ok(response) => Ok(response.into_inner()),
        Err(error) => Err(qstash::Error::from_api(error).await),
    }
}

/// Display, Debug and every source of an error.
pub fn all_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("{error}\n{error:?}\n");
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(&format!("{inner}\n{inner:?}\n"));
        source = inner.source();
    }
    text
}

/// QStash's answer to a publish.
pub fn published(id: &str) -> Action {
    Action::json(200, serde_json::json!({ "messageId": id }))
}
