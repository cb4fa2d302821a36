//! Instructions per publish, counted exactly by callgrind, through
//! `qstash::Client` and through a bare `reqwest::Client` sending the same
//! request (see `support/mod.rs`).
//!
//! `cargo bench --bench publish_cost` (needs `valgrind`) starts the server
//! of `support` in a child process, then runs this program under
//! `valgrind --tool=callgrind` for [`FEW`] and for [`MANY`] publishes per
//! client, one at a time and [`IN_FLIGHT`] at a time. The difference of the
//! two counts divided by the difference of publishes is the cost of one
//! publish, start-up and connecting left out. The callgrind files stay in
//! the target directory for `callgrind_annotate`.
//!
//! `publish_cost serve` runs the server alone (its address on stdout);
//! `publish_cost run <qstash|bare> <address> <count> <in flight>` runs one
//! client's publishes against it.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const FEW: usize = 200;
const MANY: usize = 2_200;
const IN_FLIGHT: usize = 32;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(),
        Some("run") => run(&args[1..]),
        // `cargo bench` passes `--bench` (and maybe a filter).
        _ => measure(),
    }
}

fn serve() {
    let address = support::start_server();
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{address}").expect("stdout");
    stdout.flush().expect("stdout");
    // The server runs on its own thread until this process is killed.
    loop {
        std::thread::park();
    }
}

fn run(args: &[String]) {
    let [side, address, count, in_flight] = args else {
        panic!("usage: publish_cost run <qstash|bare> <address> <count> <in flight>");
    };
    let qstash = match side.as_str() {
        "qstash" => true,
        "bare" => false,
        other => panic!("no client `{other}`: qstash or bare"),
    };
    let address: SocketAddr = address.parse().expect("an address");
    let count: usize = count.parse().expect("a count");
    let in_flight: usize = in_flight.parse().expect("a number in flight");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let clients = support::Clients::new(address);
    runtime.block_on(clients.publish_many(qstash, count, in_flight));
}

/// Kills the server when the measurement ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn measure() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("publish_cost: valgrind is not installed; nothing measured");
        return;
    }
    let program = std::env::current_exe().expect("this program's path");
    let mut server = Server(
        Command::new(&program)
            .arg("serve")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the server starts"),
    );
    let mut address = String::new();
    BufReader::new(server.0.stdout.take().expect("its stdout"))
        .read_line(&mut address)
        .expect("its address");
    let address = address.trim();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("publish_cost");
    std::fs::create_dir_all(&out).expect("an output directory");

    // Creating a future sends nothing: the address is never dialled.
    let clients = support::Clients::new(SocketAddr::from(([127, 0, 0, 1], 9)));
    println!(
        "size of the future of one publish: qstash {} bytes, bare {} bytes",
        std::mem::size_of_val(&clients.qstash()),
        std::mem::size_of_val(&clients.bare()),
    );
    println!("instructions per publish (callgrind, ({MANY} - {FEW} publishes)):");
    println!(
        "{:<8} {:>12} {:>14}",
        "client",
        "one at a time",
        format!("{IN_FLIGHT} in flight")
    );
    for side in ["qstash", "bare"] {
        let per_publish = [1, IN_FLIGHT].map(|in_flight| {
            let [few, many] = [FEW, MANY].map(|count| {
                let file = out.join(format!("{side}.{in_flight}.{count}.callgrind"));
                instructions(&program, &file, side, address, count, in_flight)
            });
            (many - few) as f64 / (MANY - FEW) as f64
        });
        println!(
            "{side:<8} {:>12.0} {:>14.0}",
            per_publish[0], per_publish[1]
        );
    }
    println!("callgrind files: {}", out.display());
}

/// The instructions one run of `count` publishes executed, from callgrind.
fn instructions(
    program: &Path,
    file: &PathBuf,
    side: &str,
    address: &str,
    count: usize,
    in_flight: usize,
) -> u64 {
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(program)
        .args(["run", side, address])
        .args([count.to_string(), in_flight.to_string()])
        .stderr(Stdio::null())
        .status()
        .expect("valgrind runs");
    assert!(status.success(), "{side} under callgrind failed: {status}");
    let text = std::fs::read_to_string(file).expect("the callgrind file");
    text.lines()
        .find_map(|line| {
            line.strip_prefix("summary:")
                .or_else(|| line.strip_prefix("totals:"))
        })
        .and_then(|total| total.trim().parse().ok())
        .expect("callgrind's total")
}
