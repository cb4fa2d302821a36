//! Peak memory of a long stream: 100,000 log entries from a local server
//! that makes pages on the fly, read through `client.logs().list().stream()`.
//!
//! The test binary's allocator counts live bytes per thread. The stream is
//! read on a single-threaded runtime on the test's own thread, and the
//! server runs on another thread with its own runtime, so the figure is what
//! the client side holds (pages, connection buffers, decoded entries) and
//! nothing the server or other tests allocate. Memory freed on this thread
//! that another thread allocated only lowers the figure; see the control
//! walk below for why that cannot hide a page buffer that keeps growing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use axum::Router;
use axum::http::Uri;
use axum::routing::get;
use futures_util::StreamExt;

/// Counts this thread's live heap bytes and their high-water mark.
pub struct CountingAllocator;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Allocations across all threads, for a sanity check that counting works.
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn add(bytes: isize) {
    // `try_with`: during thread teardown the counters may be gone already.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + bytes;
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

// SAFETY: every call is forwarded to `System` unchanged; the counters touch
// only const-initialized thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        add(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        add(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Starts counting this thread's peak from what is live now.
fn reset_peak() -> isize {
    let live = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(live));
    live
}

fn peak() -> isize {
    PEAK.with(Cell::get)
}

const PAGE: u64 = 100;

/// One log entry as QStash sends it, about 600 bytes of JSON, written
/// directly (the server makes 100,000 of them; building `serde_json::Value`s
/// would make it, not the client, the slow side of the walk).
fn entry(n: u64, out: &mut String) {
    use std::fmt::Write;
    let time = 1_732_286_400_000_u64 - n;
    write!(
        out,
        r#"{{"time":{time},"messageId":"msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRc{n:08}","state":"DELIVERED","url":"https://example.com/api/jobs","method":"POST","header":{{"Content-Type":["application/json"],"X-Trace":["trace-{n}"]}},"body":"eyJqb2IiOjQyLCJwYXlsb2FkIjoiYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoifQ==","maxRetries":3,"timeout":30000,"labels":["billing","eu"],"queueName":"my-queue","retryDelayExpression":"1000 * (1 + retried)"}}"#
    )
    .expect("writing to a String");
}

/// Pages of `total` entries, `PAGE` at a time; the cursor is the index of
/// the next entry.
async fn serve_logs(total: u64) -> String {
    let app = Router::new().route(
        "/v2/logs",
        get(move |uri: Uri| async move {
            let start: u64 = uri
                .query()
                .unwrap_or_default()
                .split('&')
                .find_map(|pair| pair.strip_prefix("cursor="))
                .map(|v| v.parse().expect("a cursor this server made"))
                .unwrap_or(0);
            let end = (start + PAGE).min(total);
            let mut page = String::from(r#"{"logs":["#);
            for n in start..end {
                if n > start {
                    page.push(',');
                }
                entry(n, &mut page);
            }
            page.push(']');
            if end < total {
                page.push_str(&format!(r#","cursor":"{end}""#));
            }
            page.push('}');
            ([("content-type", "application/json")], page)
        }),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1");
            tx.send(listener.local_addr().expect("address"))
                .expect("test waits");
            axum::serve(listener, app).await.expect("server runs");
        });
    });
    format!("http://{}", rx.recv().expect("server address"))
}

struct Walk {
    entries: u64,
    peak_bytes: isize,
    seconds: f64,
}

/// Reads every entry of a `total`-entry log on this thread; the peak is
/// measured from just before the first poll of the stream to its end.
fn walk(total: u64) -> Walk {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    runtime.block_on(async move {
        let base_url = serve_logs(total).await;
        let client = qstash::Client::builder()
            .token(crate::TOKEN)
            .base_url(base_url)
            .build()
            .expect("client");
        let mut stream = client.logs().list().count(PAGE as u32).stream();
        let started = Instant::now();
        let baseline = reset_peak();
        let mut entries = 0;
        let mut last_time = i64::MAX;
        while let Some(entry) = stream.next().await {
            let entry = entry.expect("every page arrives");
            // Entries come in order, each exactly once.
            let time = entry.time.expect("time");
            assert!(time < last_time, "entry {entries} out of order");
            last_time = time;
            entries += 1;
        }
        Walk {
            entries,
            peak_bytes: peak() - baseline,
            seconds: started.elapsed().as_secs_f64(),
        }
    })
}

/// Memory stays at about one page however long the stream: the peak over
/// 100,000 entries (1,000 pages) is close to the peak over 1,000 entries
/// (10 pages), and far below what holding the entries would take.
#[test]
fn a_100_000_entry_walk_holds_one_page() {
    assert!(
        ALLOCATIONS.load(Ordering::Relaxed) > 0,
        "the allocator counts"
    );
    let short = walk(1_000);
    let long = walk(100_000);
    assert_eq!(short.entries, 1_000);
    assert_eq!(long.entries, 100_000);
    println!(
        "logs stream: {} entries in {:.2} s, peak {} KiB held by the client; \
         {} entries: peak {} KiB",
        long.entries,
        long.seconds,
        long.peak_bytes / 1024,
        short.entries,
        short.peak_bytes / 1024,
    );
    // A decoded entry here is several hundred bytes: keeping all 100,000
    // would be tens of MiB, keeping even 10 pages about 1 MiB.
    assert!(
        long.peak_bytes < 2 * short.peak_bytes.max(256 * 1024),
        "peak grew with the length of the stream: {} bytes for 100,000 entries, {} for 1,000",
        long.peak_bytes,
        short.peak_bytes
    );
    assert!(
        long.peak_bytes < 4 * 1024 * 1024,
        "peak {} bytes",
        long.peak_bytes
    );
}
