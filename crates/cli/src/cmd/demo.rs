//! `dialtone demo`: the whole loop on the embedded default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use dialtone_drill::Run;
use dialtone_engine::{EngineConfig, EventWatch, Incident};
use dialtone_model::Timestamp;
use dialtone_notify::Courier;
use dialtone_server::live::{
    Live, PROBE_STALE_SECS, REPORT_HISTORY_SECS, deliver_paced, run_paced,
};
use dialtone_server::{
    AppState, HEADER_READ_TIMEOUT, Published, Rate, ServerConfig, Stores, app, serve,
};
use dialtone_sim::TwinConfig;
use dialtone_statuspage::PageInfo;
use dialtone_store::{AuthStore, NotifyStore, PlanStore, SqliteStore, Store};

use super::UsageError;
use super::data_dir::{self, DataDirLock};
use crate::config::Config;

/// Run the whole loop on the built-in digital twin, with the status page and console.
///
/// A simulated operator network has an outage; Dialtone detects it, names
/// the failing element, opens an incident, and the public status page says so.
///
/// The twin first runs flat out through a warm-up (so detectors learn what
/// normal looks like), then in accelerated real time; the scenario's fault
/// starts a few simulated minutes later. State (incidents and their
/// timelines) lives in SQLite in the data directory; a restart keeps it
/// (an incident left open stays open for an operator to close) and starts
/// the twin's calendar whole weeks after it. Ctrl-C or SIGTERM stops cleanly.
///
/// Example: dialtone demo --speed 120 --scenario regional-power-outage
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Address to serve the status page, API and console on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory for Dialtone's state (created if missing).
    #[arg(long, default_value = "./dialtone-data")]
    data_dir: PathBuf,
    /// Simulated seconds per real second once live (60: a minute a second).
    #[arg(long, default_value_t = 60.0, value_parser = parse_speed)]
    speed: f64,
    /// Cells in the simulated network (24 to 1,000,000).
    #[arg(long, default_value_t = 300)]
    cells: usize,
    /// Seed of the digital twin.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Scenario to inject (see `dialtone scenarios`).
    #[arg(long, default_value = "core-software-version")]
    scenario: String,
    /// Simulated hours run flat out before going live, 2 to 672.
    #[arg(long, default_value_t = 34, value_parser = clap::value_parser!(u32).range(2..=24 * 28))]
    warmup_hours: u32,
    /// Simulated minutes of live, healthy running before the fault starts.
    #[arg(long, default_value_t = 5)]
    fault_after_mins: u32,
    /// How long the fault lasts, in simulated minutes.
    #[arg(long, default_value_t = 45, value_parser = clap::value_parser!(u32).range(1..=24 * 60))]
    fault_mins: u32,
    /// Mark session cookies Secure: use when a TLS proxy fronts Dialtone.
    /// On without it when the configured public URL (`base_url`) is https.
    #[arg(long)]
    secure_cookies: bool,
    /// Address of a reverse proxy in front of Dialtone (repeat for several):
    /// its requests count against the client its X-Forwarded-For names, so
    /// rate limits apply per client rather than to everyone behind it.
    #[arg(long = "trusted-proxy", value_name = "IP")]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Requests per second each client IP may make to the public pages, and apart from
    /// that to the signed-in API and console (bursts of 4x).
    #[arg(long, alias = "public-rate", default_value_t = 50.0, value_parser = parse_rate)]
    public_rate_per_sec: f64,
    /// Configuration file: the crisis playbook and where notifications go
    /// (see docs/configuration.md). Without one, built-in defaults apply and
    /// email is off.
    #[arg(long)]
    config: Option<PathBuf>,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if v.is_finite() && (0.1..=1_000_000.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is out of range: use 0.1 to 1000000"))
    }
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if v.is_finite() && (0.1..=100_000.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is out of range: use 0.1 to 100000"))
    }
}

/// Where a demo's twin starts: at `default_start`, moved on by whole weeks
/// past everything the `earlier` runs' incidents recorded and their latest
/// customer report (`latest_report`). A restarted demo keeps the incidents
/// of the runs before it (open ones stay open), so its network time must not
/// run back over theirs: an operator's action on an old incident would be
/// dated before the incident's own last update, the history would hold two
/// outages on the same morning, and a reply to the reporters of a new
/// outage would reach an earlier run's reporters too. Whole weeks keep the
/// twin's days and weeks in the shape its detectors learn.
fn start_after(
    earlier: &[Incident],
    latest_report: Option<Timestamp>,
    default_start: Timestamp,
) -> Timestamp {
    const WEEK: i64 = 7 * 86_400;
    // The times come from a database file: one before the default start is
    // no later run's, and one past a century of restarts is a damaged or
    // hand-edited row, which must neither overflow nor carry every later
    // run into a far future.
    const PLAUSIBLE_SECS: i64 = 100 * 365 * 86_400;
    let latest = (earlier.iter())
        .flat_map(|i| i.timeline.iter().map(|e| e.at).chain([i.updated_at]))
        .chain(latest_report)
        .filter(|&t| t >= default_start && t - default_start <= PLAUSIBLE_SECS)
        .max();
    latest
        .map(|t| default_start + ((t - default_start) / WEEK + 1) * WEEK)
        .unwrap_or(default_start)
}

/// What operators told an earlier run, given again to this one from the
/// network time `start` on: changes recent enough to be a fault's evidence,
/// and events not yet over. One whose element the topology no longer has is
/// skipped, with a warning.
async fn resume_plans(
    live: &mut Live,
    store: &dyn PlanStore,
    start: Timestamp,
) -> anyhow::Result<()> {
    let since = start - dialtone_rca::CHANGE_LOOKBACK_SECS;
    let changes = store
        .changes_since(since)
        .await
        .context("loading recorded changes")?;
    let watches =
        (store.watches_ending_after(start).await).context("loading scheduled event watches")?;
    let (n_changes, n_watches) = (changes.len(), watches.len());
    for change in changes {
        if let Err(e) = live.record_change(change) {
            eprintln!("dialtone: warning: a recorded change is skipped: {e}");
        }
    }
    for watch in watches {
        if let Err(e) = live.watch_event(watch) {
            eprintln!("dialtone: warning: a scheduled event watch is skipped: {e}");
        }
    }
    if n_changes + n_watches > 0 {
        eprintln!(
            "dialtone: resumed {n_changes} recorded change(s) and {n_watches} event watch(es)"
        );
    }
    Ok(())
}

/// Takes up the probes an earlier run had firing and heard of within
/// [`PROBE_STALE_SECS`]: Alertmanager tells of a firing alert again only after
/// its repeat interval, and until then their evidence would be missing.
async fn resume_probes(live: &mut Live, store: &dyn PlanStore) -> anyhow::Result<()> {
    let now = dialtone_server::unix_now();
    let probes = (store
        .firing_probes(now.saturating_sub(PROBE_STALE_SECS))
        .await)
        .context("loading the probes that were firing")?;
    let mut resumed = 0;
    for (alert, heard_at) in probes {
        // Stale when it would have been, had the run not stopped.
        match live.probe_alert(&alert, heard_at) {
            Ok(()) => resumed += 1,
            Err(e) => eprintln!("dialtone: warning: a firing probe is skipped: {e}"),
        }
    }
    if resumed > 0 {
        eprintln!("dialtone: resumed {resumed} firing probe(s)");
    }
    Ok(())
}

/// The event watch a scenario about a scheduled event calls for: the NOC
/// registers the call on the element the fault will strike, from ten
/// minutes before the fault to its end, with the standby to switch to.
/// Without it the demo showed the bridge's outage as a minor incident held
/// for approval, and paged nobody during the call.
fn scheduled_event(run: &Run, scenario: &str) -> Option<EventWatch> {
    let name = (dialtone_sim::scenarios().iter())
        .find(|s| s.id == scenario)?
        .scheduled_event?;
    let fault = run.twin().ground_truth().first()?;
    Some(EventWatch {
        name: name.to_string(),
        element: fault.root_cause.to_string(),
        start: fault.onset - 600,
        end: fault.end,
        fallback: Some(format!("{}-standby", fault.root_cause)),
    })
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(demo(args))
}

async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    init_tracing();
    // The twin from `start`, and when it goes live.
    let twin_from = |start: Timestamp| {
        let live_from = start + i64::from(args.warmup_hours) * 3600;
        let twin = TwinConfig {
            seed: args.seed,
            cells: args.cells,
            scenario: args.scenario.clone(),
            start,
            fault_at: live_from + i64::from(args.fault_after_mins) * 60,
            fault_duration_secs: i64::from(args.fault_mins) * 60,
        };
        (twin, live_from)
    };
    let default_start = TwinConfig::default().start;
    let (twin, mut live_from) = twin_from(default_start);
    // Check everything the user gave before touching the disk, so a bad flag
    // leaves nothing behind.
    let mut config = Config::load(args.config.as_deref())?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| {
            UsageError(format!(
                "cannot listen on {}: {e} (is another server using it? pick another with --listen)",
                args.listen
            ))
        })?;
    // Where it listens, as bound: `--listen 127.0.0.1:0` picks a port, and
    // links in the page and in messages must carry it.
    let base_url = format!("http://{}", listener.local_addr().unwrap_or(args.listen));
    if config.notify.base_url.is_empty() {
        config.notify.base_url = base_url.clone();
    }
    let courier = Courier::new(&config.notify).map_err(|e| UsageError(e.to_string()))?;
    let mut run =
        Run::new(twin, EngineConfig::default(), 1).map_err(|e| UsageError(e.to_string()))?;
    data_dir::create(&args.data_dir)?;
    // Held until the process ends: a second server on this directory would
    // mix its incidents into ours.
    let _lock = DataDirLock::acquire(&args.data_dir)?;
    let store = data_dir::open_store(&args.data_dir).await?;
    let earlier = store
        .recent_incidents(50)
        .await
        .context("loading earlier incidents")?;
    let latest_report =
        (store.latest_report_at().await).context("reading the latest customer report")?;
    let start = start_after(&earlier, latest_report, default_start);
    if start != default_start {
        let (twin, from) = twin_from(start);
        run = Run::new(twin, EngineConfig::default(), 1).map_err(|e| UsageError(e.to_string()))?;
        live_from = from;
    }
    let first_id = store
        .next_incident_id()
        .await
        .context("numbering incidents")?;
    let console_link = demo_login_link(&store).await?;
    let store = Arc::new(store);

    let page = PageInfo {
        url: base_url.clone(),
        created_at: start,
        ..PageInfo::default()
    };
    run.continue_numbering_from(first_id);
    let watch = scheduled_event(&run, &args.scenario);
    let mut live = Live::new(run, earlier, page, config.playbook);
    resume_plans(&mut live, store.as_ref(), start).await?;
    let reports = (store.reports_since(start - REPORT_HISTORY_SECS).await)
        .context("loading earlier customer reports")?;
    live.replay_reports(&reports);
    if let Some(event) = watch {
        eprintln!(
            "dialtone: watching '{}' on {} (the scenario's scheduled event)",
            event.name, event.element
        );
        live.watch_event(event)
            .context("watching the scenario's scheduled event")?;
    }
    eprintln!(
        "dialtone: warming up: {} simulated hours of normal traffic on {} cells...",
        args.warmup_hours, args.cells
    );
    while live.now() < live_from - 60 {
        live.step();
    }
    // After the warm-up: a probe counts from the network time it is taken at.
    resume_probes(&mut live, store.as_ref()).await?;
    let published = Arc::new(Published::new(live.render()));
    let server_config = ServerConfig {
        // A page served over https to its readers sits behind TLS.
        secure_cookies: args.secure_cookies
            || (config.notify.base_url.get(..8))
                .is_some_and(|s| s.eq_ignore_ascii_case("https://")),
        trusted_proxies: args.trusted_proxies.clone(),
        public_rate: Rate {
            per_second: args.public_rate_per_sec,
            burst: args.public_rate_per_sec * 4.0,
        },
        ..ServerConfig::default()
    };
    let state = AppState::new(
        published.clone(),
        live,
        Stores::of(store.clone()),
        config.notify,
        server_config,
    )
    .context("preparing the server")?;
    // The warm-up's incidents and messages, written as every minute's are
    // (messages first: see `Live::settle`).
    state.live.lock().await.settle(&state.sinks()).await;

    let login = match &console_link {
        Some(code) => format!(
            "{base_url}/login/link?code={code} (one-time link for demo-admin, valid 30 minutes)"
        ),
        None => format!("{base_url}/login (users from `dialtone user add`)"),
    };
    // The server runs whether or not anyone reads the banner (`| head` included).
    let _ = outln!(
        "Dialtone is running (scenario {}, fault in {} simulated minutes).\n  \
         status page   {base_url}/\n  \
         console       {base_url}/console\n  \
         console login {login}\n  \
         Statuspage v2 {base_url}/api/v2/summary.json\n  \
         database      {}\n\
         Press Ctrl-C to stop.",
        args.scenario,
        args.fault_after_mins,
        args.data_dir.join(dialtone_store::SQLITE_FILE).display()
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let tick = Duration::from_secs_f64(60.0 / args.speed);
    let (live, sinks) = (state.live.clone(), state.sinks());
    let mut tasks = tokio::task::JoinSet::new();
    let mut names = std::collections::HashMap::new();
    let pipeline = run_paced(live.clone(), sinks.clone(), tick, stop_rx.clone());
    names.insert(tasks.spawn(pipeline).id(), "pipeline");
    let delivery = deliver_paced(
        state.notify_store.clone(),
        courier,
        state.deliveries.clone(),
        Duration::from_secs(1),
        stop_rx.clone(),
    );
    names.insert(tasks.spawn(delivery).id(), "delivery");
    let mut server_stop = stop_rx;
    let server = serve(listener, app(state), HEADER_READ_TIMEOUT, async move {
        let _ = server_stop.changed().await;
    });
    names.insert(tasks.spawn(server).id(), "server");
    // Each task runs until told to stop: one that ends first (a panic, most
    // likely) would leave the others serving a page that no longer moves,
    // so it stops the demo, with an error.
    let ended_early = tokio::select! {
        stopped = stop_signal() => {
            stopped?;
            None
        }
        Some(ended) = tasks.join_next_with_id() => Some(match ended {
            Ok((id, ())) => format!("the {} task ended on its own", names[&id]),
            Err(e) => format!("the {} task failed: {e}", names[&e.id()]),
        }),
    };
    eprintln!("dialtone: stopping...");
    let _ = stop_tx.send(true);
    let mut failed = ended_early.into_iter().collect::<Vec<_>>();
    while let Some(ended) = tasks.join_next_with_id().await {
        if let Err(e) = ended {
            failed.push(format!("the {} task failed: {e}", names[&e.id()]));
        }
    }
    // The pipeline's last settle may have met a store that refused it: try
    // a few more times, then say what is lost rather than exit as if clean.
    let mut live = live.lock().await;
    let refused = |live: &Live| (live.unsaved(), live.unqueued());
    for _ in 0..SHUTDOWN_SAVE_ATTEMPTS {
        if refused(&live) == (0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        live.settle(&sinks).await;
    }
    let (incidents, messages) = refused(&live);
    if (incidents, messages) != (0, 0) {
        failed.push(format!(
            "the store refused {incidents} incidents and {messages} messages at shutdown (see \
             the warnings above); they are lost"
        ));
    }
    match failed.as_slice() {
        [] => Ok(()),
        failed => anyhow::bail!("{}", failed.join("; ")),
    }
}

/// Settles tried after the pipeline's own last one before the demo reports
/// incidents or messages the store would not take, a second apart.
const SHUTDOWN_SAVE_ATTEMPTS: usize = 3;

/// Ctrl-C, or SIGTERM on Unix: how systemd and `docker stop` ask a service
/// to stop, and it must stop as cleanly as from the keyboard.
async fn stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}

/// A one-time console sign-in link for `demo-admin`, created (admin, no
/// password) in a fresh data directory. A data directory that already has
/// other users gets no link: its people sign in with their passwords.
async fn demo_login_link(store: &SqliteStore) -> anyhow::Result<Option<String>> {
    const DEMO_ADMIN: &str = "demo-admin";
    let user = match store.user_by_name(DEMO_ADMIN).await? {
        Some(user) => user,
        None if store.count_users().await? == 0 => {
            let now = dialtone_server::unix_now();
            store
                .add_user(DEMO_ADMIN, dialtone_auth::Role::Admin, None, now)
                .await?
        }
        None => return Ok(None),
    };
    super::user::login_link(store, &user, 30 * 60)
        .await
        .map(Some)
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DIALTONE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conference_scenario_watches_its_call_and_no_other_watches_anything() {
        let run = |scenario: &str| {
            let twin = TwinConfig {
                cells: 60,
                scenario: scenario.into(),
                ..TwinConfig::default()
            };
            Run::new(twin, EngineConfig::default(), 1).unwrap()
        };
        let bridge = run("conference-bridge-degradation");
        let fault = &bridge.twin().ground_truth()[0];
        let event = scheduled_event(&bridge, "conference-bridge-degradation").unwrap();
        assert_eq!(event.element, fault.root_cause.to_string());
        assert_eq!((event.start, event.end), (fault.onset - 600, fault.end));
        let plain = run("core-software-version");
        assert_eq!(scheduled_event(&plain, "core-software-version"), None);
    }

    #[test]
    fn a_restarted_demo_starts_whole_weeks_after_what_it_keeps() {
        const START: Timestamp = 1_767_571_200;
        const WEEK: i64 = 7 * 86_400;
        assert_eq!(start_after(&[], None, START), START);
        let mut inc = Incident::open(1, START + 34 * 3600);
        // A timeline entry later than the incident's last update counts too.
        inc.updated_at = START + 35 * 3600;
        inc.timeline.push(dialtone_engine::TimelineEntry {
            incident: 1,
            at: START + WEEK + 60,
            kind: dialtone_engine::TimelineKind::Monitoring,
            status: dialtone_model::IncidentStatus::Monitoring,
            public_body: String::new(),
            detail: String::new(),
        });
        assert_eq!(start_after(&[inc], None, START), START + 2 * WEEK);
        let before = Incident::open(2, START - 60);
        assert_eq!(start_after(&[before], None, START), START);
        // A run that heard reports and opened no incident moves it on too.
        assert_eq!(start_after(&[], Some(START + 3600), START), START + WEEK);
        // A damaged row far out is passed over, not followed.
        assert_eq!(start_after(&[], Some(i64::MAX), START), START);
        assert_eq!(
            start_after(&[], Some(START + 200 * 365 * 86_400), START),
            START
        );
    }
}
