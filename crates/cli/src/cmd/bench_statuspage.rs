//! `dialtone bench statuspage`: the public status page under `wrk` while a
//! drill runs, beside nginx serving the same page from disk.
//!
//! Both servers run on this machine with as many worker threads (Dialtone)
//! as worker processes (nginx), one per core, and wrk shares those cores with
//! them. The runs alternate, Dialtone then nginx, round by round, so a change
//! in the machine's load falls on both sides.

use std::ffi::OsString;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dialtone_bench::throughput::median;
use dialtone_bench::wrk::{self, WrkReport};
use dialtone_drill::Run;
use dialtone_engine::EngineConfig;
use dialtone_notify::NotifyConfig;
use dialtone_respond::Playbook;
use dialtone_server::live::{Live, run_paced};
use dialtone_server::{
    AppState, HEADER_READ_TIMEOUT, Published, Rate, ServerConfig, Stores, app, serve,
};
use dialtone_sim::TwinConfig;
use dialtone_statuspage::PageInfo;
use dialtone_store::SqliteStore;
use serde_json::{Value, json};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use super::{UsageError, progress_bar};

// The drill that runs under the load: demo's scenario and timing, paced
// fast so the page goes from operational to an incident and back while
// wrk reads it.
const WARMUP_HOURS: i64 = 34;
const FAULT_AFTER_MINS: i64 = 5;
const FAULT_MINS: i64 = 45;
/// One simulated minute (a pipeline step and a re-render) every 100 ms.
const TICK: Duration = Duration::from_millis(100);

/// The public rate limit during the run: far above any rate wrk reaches from
/// one address, so the limiter still runs on every request but never refuses.
const UNLIMITED_RATE: f64 = 1e9;

/// /proc counts CPU time in USER_HZ ticks: 100 a second on every
/// architecture Debian ships.
const USER_HZ: f64 = 100.0;

const INSTALL: &str = "install Debian's wrk and nginx: apt-get install wrk nginx";

/// Loads the status page with wrk while a drill runs, beside nginx serving
/// the same pre-rendered page from disk, and reports both throughputs and
/// the latency percentiles.
///
/// Needs Debian's `wrk` and `nginx` (apt-get install wrk nginx).
#[derive(Debug, clap::Args)]
pub struct StatuspageArgs {
    /// Seconds each wrk run lasts.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=3600))]
    duration_secs: u32,
    /// Connections wrk keeps open (at least --threads).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    connections: u32,
    /// wrk's threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=256))]
    threads: u32,
    /// Runs per server, alternating Dialtone and nginx; medians are reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    rounds: u32,
    /// Let nginx keep the page's file open between requests
    /// (`open_file_cache`), as a tuned static server would; Debian's default
    /// configuration does not, and opens, stats and closes it every time.
    #[arg(long)]
    nginx_open_file_cache: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// One wrk run against one side.
struct Measured {
    report: WrkReport,
    /// Size of the page as the run began (Dialtone's changes as the drill goes on).
    page_bytes: usize,
    /// The server's CPU time (user and system, all its threads or worker
    /// processes) over the run, per response: moved less than requests per
    /// second by other work on the machine. `None` where /proc cannot tell.
    cpu_us_per_request: Option<f64>,
}

pub fn run(args: StatuspageArgs) -> anyhow::Result<()> {
    if args.connections < args.threads {
        return Err(UsageError(format!(
            "--connections {} is fewer than --threads {}: wrk needs at least one connection per thread",
            args.connections, args.threads
        ))
        .into());
    }
    let wrk_bin =
        find_tool("wrk").ok_or_else(|| UsageError(format!("wrk not found: {INSTALL}")))?;
    let nginx_bin =
        find_tool("nginx").ok_or_else(|| UsageError(format!("nginx not found: {INSTALL}")))?;
    // Created before the runtime so that it outlives the drill writing into it.
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    // One server thread (nginx: worker process) per core on both sides.
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let data_dir = dir.path().join("data");
    let www = dir.path().join("nginx");
    for d in [&data_dir, &www] {
        std::fs::create_dir(d).with_context(|| format!("creating {}", d.display()))?;
    }
    if !args.json {
        eprintln!(
            "dialtone: warming up the drill: {WARMUP_HOURS} simulated hours on {} cells...",
            TwinConfig::default().cells
        );
    }
    let dialtone = start_dialtone(&runtime, &data_dir)?;
    write_page(&www, &dialtone.published.current().status_html)?;
    let conf = NginxConf {
        workers,
        connections: args.connections,
        open_file_cache: args.nginx_open_file_cache,
    };
    let nginx = Nginx::start(&nginx_bin, &www, &conf)?;

    let bar = progress_bar(u64::from(args.rounds) * 2, "{bar:30} {pos}/{len} {msg}");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut minutes_under_load = 0;
    for round in 1..=args.rounds {
        bar.set_message(format!("round {round}: Dialtone"));
        let page_bytes = dialtone.published.current().status_html.len();
        let before = dialtone.live.blocking_lock().now();
        // Dialtone's CPU time is this process's, the drill's share included.
        ours.push(measure(
            &wrk_bin,
            &args,
            &dialtone.url,
            &[std::process::id()],
            page_bytes,
        )?);
        minutes_under_load += (dialtone.live.blocking_lock().now() - before) / 60;
        bar.inc(1);

        bar.set_message(format!("round {round}: nginx"));
        // nginx gets the page as it stands now, so both serve the same bytes.
        let page = dialtone.published.current().status_html.clone();
        write_page(&www, &page)?;
        if args.nginx_open_file_cache {
            // Past open_file_cache_valid, so nginx has seen the new file.
            std::thread::sleep(OPEN_FILE_CACHE_VALID + Duration::from_millis(100));
        }
        theirs.push(measure(
            &wrk_bin,
            &args,
            &nginx.url(),
            &nginx.pids(),
            page.len(),
        )?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let incidents = dialtone
        .live
        .blocking_lock()
        .run()
        .engine()
        .incidents()
        .len();
    drop(nginx);
    dialtone.stop(&runtime)?;

    let ours_rps = median_of(&ours, |r| r.requests_per_sec);
    let theirs_rps = median_of(&theirs, |r| r.requests_per_sec);
    let ratio = ours_rps / theirs_rps;
    if args.json {
        outln!(
            "{}",
            json!({
                "benchmark": "statuspage",
                "path": "/",
                "duration_secs": args.duration_secs,
                "connections": args.connections,
                "wrk_threads": args.threads,
                "rounds": args.rounds,
                "server_workers": workers,
                "nginx_open_file_cache": args.nginx_open_file_cache,
                "public_rate_per_sec": UNLIMITED_RATE,
                "drill": {
                    "scenario": TwinConfig::default().scenario,
                    "tick_ms": TICK.as_millis(),
                    "simulated_minutes_during_dialtone_runs": minutes_under_load,
                    "incidents_opened": incidents,
                },
                "dialtone": side_json(&ours),
                "nginx": side_json(&theirs),
                "ratio": ratio,
            })
        )?;
        return Ok(());
    }
    outln!(
        "status page (GET /) under wrk: {} connections, {} wrk threads, {} s per run, {} rounds \
         alternating Dialtone and nginx; {workers} server threads (Dialtone) and worker processes \
         (nginx, {})",
        args.connections,
        args.threads,
        args.duration_secs,
        args.rounds,
        if args.nginx_open_file_cache {
            "with open_file_cache"
        } else {
            "Debian's static-file defaults"
        }
    )?;
    outln!()?;
    outln!(
        "{:<9} {:>12} {:>9} {:>9} {:>11} {:>11}  runs (requests/s)",
        "server",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "CPU us/req",
        "page bytes"
    )?;
    for (name, side) in [("Dialtone", &ours), ("nginx", &theirs)] {
        let runs: Vec<String> = side
            .iter()
            .map(|m| format!("{:.0}", m.report.requests_per_sec))
            .collect();
        outln!(
            "{:<9} {:>12.0} {:>9.3} {:>9.3} {:>11} {:>11}  {}",
            name,
            median_of(side, |r| r.requests_per_sec),
            median_of(side, |r| r.latency_p50_ms),
            median_of(side, |r| r.latency_p99_ms),
            cpu_median(side).map_or_else(|| "n/a".to_owned(), |c| format!("{c:.1}")),
            page_bytes_range(side),
            runs.join(" ")
        )?;
    }
    outln!()?;
    outln!(
        "Dialtone / nginx: {:.1}% of nginx's requests/s (target: at least 80%)",
        100.0 * ratio
    )?;
    let errors: u64 = ours
        .iter()
        .chain(&theirs)
        .map(|m| m.report.socket_errors)
        .sum();
    if errors > 0 {
        outln!("wrk counted {errors} socket errors (connect, read, write, timeout) over all runs")?;
    }
    outln!(
        "drill: {}, one simulated minute per {} ms: {minutes_under_load} minutes stepped and \
         re-rendered during Dialtone's runs, {incidents} incident(s) opened",
        TwinConfig::default().scenario,
        TICK.as_millis()
    )?;
    outln!(
        "Medians over the rounds (p50/p99: median of each run's percentile). wrk, the drill and \
         the server under test share this machine's cores; both sides pay the same. CPU us/req: \
         the server's CPU time over a run per response (Dialtone's includes the drill). \
         Dialtone's public rate limit is raised to {UNLIMITED_RATE:e}/s for the run (the \
         limiter still runs)."
    )?;
    Ok(())
}

fn median_of(side: &[Measured], figure: impl Fn(&WrkReport) -> f64) -> f64 {
    median(&side.iter().map(|m| figure(&m.report)).collect::<Vec<_>>())
}

/// `None` unless every run could be measured.
fn cpu_median(side: &[Measured]) -> Option<f64> {
    let cpu: Option<Vec<f64>> = side.iter().map(|m| m.cpu_us_per_request).collect();
    cpu.map(|c| median(&c))
}

fn page_bytes_range(side: &[Measured]) -> String {
    let min = side.iter().map(|m| m.page_bytes).min().unwrap_or(0);
    let max = side.iter().map(|m| m.page_bytes).max().unwrap_or(0);
    if min == max {
        min.to_string()
    } else {
        format!("{min}-{max}")
    }
}

fn side_json(side: &[Measured]) -> Value {
    let runs: Vec<Value> = side
        .iter()
        .map(|m| {
            let mut run = json!(m.report);
            run["page_bytes"] = json!(m.page_bytes);
            run["cpu_us_per_request"] = json!(m.cpu_us_per_request);
            run
        })
        .collect();
    json!({
        "requests_per_sec_median": median_of(side, |r| r.requests_per_sec),
        "latency_p50_ms_median": median_of(side, |r| r.latency_p50_ms),
        "latency_p99_ms_median": median_of(side, |r| r.latency_p99_ms),
        "cpu_us_per_request_median": cpu_median(side),
        "runs": runs,
    })
}

/// `name` on the PATH, or in /usr/sbin, where Debian puts nginx and which is
/// not on every user's PATH.
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// One wrk run against `url`, with the CPU time the processes `pids` spent meanwhile.
fn measure(
    wrk_bin: &Path,
    args: &StatuspageArgs,
    url: &str,
    pids: &[u32],
    page_bytes: usize,
) -> anyhow::Result<Measured> {
    let cpu = || pids.iter().map(|&pid| cpu_secs(pid)).sum::<Option<f64>>();
    let before = cpu();
    let report = run_wrk(wrk_bin, args, url)?;
    let spent = cpu().zip(before).map(|(after, before)| after - before);
    Ok(Measured {
        cpu_us_per_request: spent.map(|s| 1e6 * s / report.requests as f64),
        report,
        page_bytes,
    })
}

/// CPU time (user and system) process `pid` has used, all its threads
/// including ended ones, in seconds.
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_ticks(&stat).map(|ticks| ticks as f64 / USER_HZ)
}

/// utime + stime, fields 14 and 15 of a /proc/PID/stat line. Fields are
/// counted from the end of the command name, which may hold spaces and
/// parentheses.
fn stat_ticks(stat: &str) -> Option<u64> {
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace().skip(11);
    let mut next = || fields.next()?.parse::<u64>().ok();
    Some(next()? + next()?)
}

fn run_wrk(bin: &Path, args: &StatuspageArgs, url: &str) -> anyhow::Result<WrkReport> {
    let out = Command::new(bin)
        .arg("--latency")
        .args(["-t", &args.threads.to_string()])
        .args(["-c", &args.connections.to_string()])
        .args(["-d", &format!("{}s", args.duration_secs)])
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wrk against {url} failed ({}): {} {}",
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let report = wrk::parse(&stdout).with_context(|| format!("reading wrk's report:\n{stdout}"))?;
    if report.requests == 0 {
        bail!("wrk completed no request against {url}:\n{stdout}");
    }
    // An error page is cheaper than the page: such a run measures the wrong thing.
    if report.non_success > 0 {
        bail!(
            "{} of {} answers from {url} were not 2xx or 3xx",
            report.non_success,
            report.requests
        );
    }
    Ok(report)
}

/// Dialtone's server and paced drill, running on the runtime's workers.
struct Dialtone {
    url: String,
    published: Arc<Published>,
    live: Arc<Mutex<Live>>,
    stop: watch::Sender<bool>,
    pipeline: JoinHandle<()>,
    server: JoinHandle<()>,
}

/// Demo's wiring (`AppState`, `app()`, `run_paced`) in a fresh data
/// directory, listening on a free port of 127.0.0.1.
fn start_dialtone(runtime: &tokio::runtime::Runtime, data_dir: &Path) -> anyhow::Result<Dialtone> {
    let base = TwinConfig::default();
    let live_from = base.start + WARMUP_HOURS * 3600;
    let twin = TwinConfig {
        fault_at: live_from + FAULT_AFTER_MINS * 60,
        fault_duration_secs: FAULT_MINS * 60,
        ..base
    };
    let run = Run::new(twin, EngineConfig::default(), 1).context("building the drill")?;
    let mut live = Live::new(run, Vec::new(), PageInfo::default(), Playbook::default());
    while live.now() < live_from - 60 {
        live.step();
    }
    let published = Arc::new(Published::new(live.render()));
    runtime.block_on(async {
        let store = Arc::new(
            SqliteStore::open(data_dir)
                .await
                .context("opening the benchmark's database")?,
        );
        let config = ServerConfig {
            public_rate: Rate {
                per_second: UNLIMITED_RATE,
                burst: UNLIMITED_RATE,
            },
            ..ServerConfig::default()
        };
        let state = AppState::new(
            published.clone(),
            live,
            Stores::of(store),
            NotifyConfig::default(),
            config,
        )
        .context("preparing the server")?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("listening on 127.0.0.1")?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let (stop, stop_rx) = watch::channel(false);
        let live = state.live.clone();
        let pipeline = tokio::spawn(run_paced(
            live.clone(),
            state.sinks(),
            TICK,
            stop_rx.clone(),
        ));
        let mut server_stop = stop_rx;
        let serve = serve(listener, app(state), HEADER_READ_TIMEOUT, async move {
            let _ = server_stop.changed().await;
        });
        Ok(Dialtone {
            url: format!("http://{addr}/"),
            published,
            live,
            stop,
            pipeline,
            server: tokio::spawn(serve),
        })
    })
}

impl Dialtone {
    fn stop(self, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        runtime.block_on(async {
            self.pipeline.await.context("drill task")?;
            self.server.await.context("server task")
        })
    }
}

/// Replaces the page nginx serves. The rename swaps it whole for nginx's
/// readers; the modes let nginx's workers read it when started as root
/// (they then run as `nobody`).
fn write_page(dir: &Path, html: &[u8]) -> anyhow::Result<()> {
    let next = dir.join("status.html.next");
    std::fs::write(&next, html).with_context(|| format!("writing {}", next.display()))?;
    std::fs::set_permissions(&next, std::fs::Permissions::from_mode(0o644))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&next, dir.join("status.html")).context("replacing nginx's page")
}

/// nginx serving `status.html` at `/` from its own directory; stopped when
/// dropped, on success or error.
struct Nginx {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Child,
}

impl Nginx {
    fn start(bin: &Path, dir: &Path, conf: &NginxConf) -> anyhow::Result<Nginx> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("finding a free port for nginx")?
            .port();
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf.render(dir, port))
            .with_context(|| format!("writing {}", path.display()))?;
        let child = Command::new(bin)
            .args(Self::args(dir))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {} ({INSTALL})", bin.display()))?;
        let mut nginx = Nginx {
            bin: bin.to_owned(),
            dir: dir.to_owned(),
            port,
            child,
        };
        nginx.wait_listening()?;
        Ok(nginx)
    }

    /// Prefix, configuration and error log, all in `dir`: nothing of the
    /// system's nginx is read or written.
    fn args(dir: &Path) -> [OsString; 6] {
        [
            "-p".into(),
            dir.into(),
            "-c".into(),
            dir.join("nginx.conf").into(),
            "-e".into(),
            dir.join("error.log").into(),
        ]
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The master and its worker processes.
    fn pids(&self) -> Vec<u32> {
        let master = self.child.id();
        let children = std::fs::read_to_string(format!("/proc/{master}/task/{master}/children"))
            .unwrap_or_default();
        std::iter::once(master)
            .chain(children.split_whitespace().filter_map(|p| p.parse().ok()))
            .collect()
    }

    fn wait_listening(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let log = |dir: &Path| std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        loop {
            if let Some(status) = self.child.try_wait().context("watching nginx")? {
                bail!(
                    "nginx exited at start ({status}): {}",
                    log(&self.dir).trim()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "nginx is not listening on port {} after 10 s: {}",
                    self.port,
                    log(&self.dir).trim()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // Killing the master would leave its workers serving: ask it to stop,
        // which it passes on, and kill it only if that could not be asked.
        let asked = Command::new(&self.bin)
            .args(Self::args(&self.dir))
            .args(["-s", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !asked {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// How often nginx checks that a cached open file is still the one on disk.
const OPEN_FILE_CACHE_VALID: Duration = Duration::from_secs(1);

/// nginx's side of the comparison.
struct NginxConf {
    /// Worker processes: as many as Dialtone's server threads.
    workers: usize,
    /// wrk's connections, all of which may land on one worker.
    connections: u32,
    open_file_cache: bool,
}

impl NginxConf {
    /// A minimal static-file server: Debian's defaults for static files
    /// (sendfile, tcp_nopush), no access log, and keep-alive connections kept
    /// for any number of requests, as Dialtone's server keeps them.
    fn render(&self, dir: &Path, port: u16) -> String {
        let NginxConf {
            workers,
            connections,
            open_file_cache,
        } = self;
        // Quoted in the file: a temporary directory's path may hold spaces.
        let d = dir.display();
        // Headroom over wrk's connections for the listener.
        let worker_connections = (connections + 64).max(1024);
        let cache = if *open_file_cache {
            format!(
                "open_file_cache max=16;\n    open_file_cache_valid {}s;",
                OPEN_FILE_CACHE_VALID.as_secs()
            )
        } else {
            String::new()
        };
        format!(
            "daemon off;
master_process on;
worker_processes {workers};
pid \"{d}/nginx.pid\";
error_log \"{d}/error.log\" warn;
events {{
    worker_connections {worker_connections};
}}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000000;
    {cache}
    default_type \"text/html; charset=utf-8\";
    client_body_temp_path \"{d}/body\";
    proxy_temp_path \"{d}/proxy\";
    fastcgi_temp_path \"{d}/fastcgi\";
    uwsgi_temp_path \"{d}/uwsgi\";
    scgi_temp_path \"{d}/scgi\";
    server {{
        listen 127.0.0.1:{port};
        root \"{d}\";
        location = / {{
            try_files /status.html =404;
        }}
    }}
}}
"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_past_a_command_name_with_spaces() {
        // A /proc/PID/stat line of a process named "a) b", utime 1234, stime 56.
        let stat = "4242 (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 3 0 99 0";
        assert_eq!(stat_ticks(stat), Some(1290));
        assert_eq!(stat_ticks("4242 (x) S 1"), None);
        let own = cpu_secs(std::process::id());
        assert!(own.is_some_and(|s| s >= 0.0));
    }
}
