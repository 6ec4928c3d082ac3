//! Reading the report `wrk --latency` prints, for the status-page benchmark.
//!
//! wrk has no machine-readable output short of a Lua script, so the few
//! figures quoted are taken from its fixed text layout; anything missing is an
//! error rather than a zero, so a changed layout cannot pass as a slow server.

use serde::Serialize;

/// The figures of one wrk run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WrkReport {
    /// Responses completed.
    pub requests: u64,
    /// wrk's `Requests/sec`: responses over the run's wall time.
    pub requests_per_sec: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    /// Responses with a status outside 2xx and 3xx (wrk counts them as requests).
    pub non_success: u64,
    /// Connect, read, write errors and timeouts, summed.
    pub socket_errors: u64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WrkParseError {
    #[error("wrk's report has no `{0}` line (was it run with --latency?)")]
    Missing(&'static str),
    #[error("cannot read wrk's line `{0}`")]
    Malformed(String),
}

/// Parses the standard output of `wrk --latency`.
pub fn parse(report: &str) -> Result<WrkReport, WrkParseError> {
    let line = |prefix: &'static str| {
        report
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .ok_or(WrkParseError::Missing(prefix))
    };
    let bad = |l: &str| WrkParseError::Malformed(l.to_owned());
    let number = |l: &str, field: &str| field.parse::<f64>().map_err(|_| bad(l));
    let latency = |prefix: &'static str| {
        let l = line(prefix)?;
        let value = l.strip_prefix(prefix).unwrap_or_default().trim();
        millis(value).ok_or_else(|| bad(l))
    };

    let l = line("Requests/sec:")?;
    let requests_per_sec = number(l, l.trim_start_matches("Requests/sec:").trim())?;
    // "19348 requests in 1.10s, 4.65MB read"
    let l = report
        .lines()
        .map(str::trim)
        .find(|l| l.contains(" requests in "))
        .ok_or(WrkParseError::Missing("N requests in"))?;
    let requests = l
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| bad(l))?;
    // Only printed when there were any.
    let non_success = match line("Non-2xx or 3xx responses:") {
        Ok(l) => l
            .trim_start_matches("Non-2xx or 3xx responses:")
            .trim()
            .parse()
            .map_err(|_| bad(l))?,
        Err(_) => 0,
    };
    // "Socket errors: connect 0, read 12, write 0, timeout 3", also only when any.
    let socket_errors = match line("Socket errors:") {
        Ok(l) => l
            .trim_start_matches("Socket errors:")
            .split(',')
            .try_fold(0u64, |sum, part| {
                let n = part.split_whitespace().nth(1)?.parse::<u64>().ok()?;
                sum.checked_add(n)
            })
            .ok_or_else(|| bad(l))?,
        Err(_) => 0,
    };
    Ok(WrkReport {
        requests,
        requests_per_sec,
        latency_p50_ms: latency("50%")?,
        latency_p99_ms: latency("99%")?,
        non_success,
        socket_errors,
    })
}

/// wrk's latency text (`144.00us`, `7.80ms`, `1.02s`) in milliseconds.
fn millis(s: &str) -> Option<f64> {
    // "us" and "ms" before "s", which both also end in.
    if let Some(us) = s.strip_suffix("us") {
        Some(us.parse::<f64>().ok()? / 1e3)
    } else if let Some(ms) = s.strip_suffix("ms") {
        ms.parse().ok()
    } else {
        Some(s.strip_suffix('s')?.parse::<f64>().ok()? * 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from Debian's wrk 4.1.0 against nginx on this machine.
    const CLEAN: &str = "\
Running 1s test @ http://127.0.0.1:18089/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   779.00us    1.64ms  16.17ms   89.19%
    Req/Sec    17.69k     6.20k   26.29k    54.55%
  Latency Distribution
     50%  144.00us
     75%  283.00us
     90%    2.60ms
     99%    7.80ms
  19348 requests in 1.10s, 4.65MB read
Requests/sec:  17531.29
Transfer/sec:      4.21MB
";

    /// Captured the same way against a missing page; the socket-error line
    /// is in wrk's layout (`Socket errors: connect %d, read %d, write %d, timeout %d`).
    const ERRORS: &str = "\
Running 1s test @ http://127.0.0.1:18089/missing
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.65ms    3.85ms  37.49ms   92.35%
    Req/Sec     8.36k     3.18k   10.92k    90.00%
  Latency Distribution
     50%   97.00us
     75%    1.80ms
     90%    4.38ms
     99%     1.21s
  8465 requests in 1.03s, 2.49MB read
  Socket errors: connect 0, read 12, write 0, timeout 3
  Non-2xx or 3xx responses: 8465
Requests/sec:   8205.54
Transfer/sec:      2.41MB
";

    #[test]
    fn a_clean_run() {
        assert_eq!(
            parse(CLEAN),
            Ok(WrkReport {
                requests: 19348,
                requests_per_sec: 17531.29,
                latency_p50_ms: 0.144,
                latency_p99_ms: 7.8,
                non_success: 0,
                socket_errors: 0,
            })
        );
    }

    #[test]
    fn errors_and_seconds() {
        let r = parse(ERRORS).unwrap();
        assert_eq!(
            (r.requests, r.non_success, r.socket_errors),
            (8465, 8465, 15)
        );
        assert!((r.latency_p99_ms - 1210.0).abs() < 1e-9);
        assert_eq!(r.latency_p50_ms, 0.097);
    }

    #[test]
    fn socket_errors_past_a_u64_are_refused() {
        let huge = ERRORS.replace("connect 0,", "connect 18446744073709551615,");
        assert!(parse(&huge).is_err());
    }

    #[test]
    fn without_latency_the_report_is_refused() {
        let plain: String = CLEAN
            .lines()
            .filter(|l| {
                !l.trim_start()
                    .starts_with(|c: char| c.is_ascii_digit() && l.contains('%'))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(parse(&plain), Err(WrkParseError::Missing("50%")));
        assert!(matches!(
            parse(&CLEAN.replace("17531.29", "fast")),
            Err(WrkParseError::Malformed(_))
        ));
    }
}
