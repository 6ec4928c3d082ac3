//! Customer problem reports: a public form and API. A report keeps only
//! what the count and the promised reply need (network time, area, problem,
//! and an email only if the reporter wants to hear back, erased from the
//! report once told or after 30 days untold, and from the reply's outbox
//! row 30 days after it went out).
//! No IP address is stored; the per-client rate limit lives in memory, and
//! so, for the open five-minute bucket only, does who has counted in it (a
//! person sending the form again is one report towards a surge).

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use dialtone_auth::form_field;
use dialtone_reports::Problem;
use serde::Deserialize;
use serde_json::json;

use crate::access::{client_ip, sent_from_another_site, unix_now};
use crate::console::escape;
use crate::subscribe::{chosen, form_alert, is_json, page, valid_email};
use crate::{ApiError, AppState, check_form, field, read_body};

/// `GET /report`: the form.
pub(crate) async fn form(State(state): State<AppState>) -> Response {
    form_page(&state, StatusCode::OK, &ReportBody::default(), None)
}

/// The form, filled in as `asked` and with `error` above it: a browser's
/// post that fails comes back with what was chosen and what was wrong.
fn form_page(
    state: &AppState,
    status: StatusCode,
    asked: &ReportBody,
    error: Option<&str>,
) -> Response {
    let problems: String = Problem::ALL
        .iter()
        .map(|p| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                p.as_str(),
                chosen(asked.problem == p.as_str(), " selected"),
                p.label()
            )
        })
        .collect();
    let areas: String = (state.regions.iter())
        .map(|r| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                escape(r),
                chosen(&asked.area == r, " selected"),
                escape(&dialtone_engine::region_name(r))
            )
        })
        .collect();
    let error = form_alert("Not sent", error);
    // Without a mail relay nobody can be written back to: no address is asked for.
    let (contact, kept) = if state.notify.smtp.is_some() {
        (
            format!(
                "<label>Email, if you want to hear when it is fixed (optional) \
                 <input type=\"email\" name=\"contact\" autocomplete=\"email\" value=\"{}\"></label>",
                escape(asked.contact.as_deref().unwrap_or_default())
            ),
            "We keep the time, the area and the problem; your email only until we have told you it is fixed, and 30 days at most.",
        )
    } else {
        (
            String::new(),
            "We keep the time, the area and the problem, nothing else. Follow the status page for updates.",
        )
    };
    page(
        status,
        "Report a problem",
        &format!(
            "{error}<form method=\"post\" action=\"/report\">\
             <label>What is wrong <select name=\"problem\">{problems}</select></label>\
             <label>Where <select name=\"area\">{areas}</select></label>\
             {contact}<button type=\"submit\">Send report</button></form><p>{kept}</p>"
        ),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    problem: String,
    area: String,
    contact: Option<String>,
}

/// `POST /report`, form or JSON `{"problem", "area", "contact"?}`.
pub(crate) async fn report(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    let ip = client_ip(&req, &state.limits.trusted_proxies);
    let json = is_json(req.headers());
    let (parts, body) = req.into_parts();
    // A browser's form comes back with what was wrong, even when the body
    // could not be read at all (then with nothing chosen).
    let asked = (read_body(body).await).and_then(|body| read(json, &parts.headers, &body));
    let (b, checked) = match asked {
        Ok(b) => {
            let checked = match sent_from_another_site(&parts.headers, &state.notify.base_url) {
                Some(forged) => Err(forged),
                None => check(&state, ip, &b),
            };
            (b, checked)
        }
        Err(e) => (ReportBody::default(), Err(e)),
    };
    // A browser's refusal is the form again, with what was chosen and why.
    let refused = |e: ApiError| {
        if json {
            return Err(e);
        }
        let mut shown = form_page(&state, e.status(), &b, Some(&e.to_string()));
        e.add_headers(shown.headers_mut());
        Ok(shown)
    };
    let report = match checked {
        Ok(report) => report,
        Err(e) => return refused(e),
    };
    // Counted per client as the rate limit counts them (an IPv6 host is its /64).
    let reporter = ip.map(crate::ratelimit::client_of);
    // Counted under the pipeline's lock, then stored outside it (a public
    // form must not hold the pipeline up for a database write) but under a
    // shared hold of `report_writes`, taken before the lock is let go: the
    // minute that resolves the incident waits for that hold before it
    // queues the replies, so the row is there, and the reporter promised an
    // email gets one.
    let ((at, counted), _being_stored) = {
        let mut live = match state.live_for_write("the report").await {
            Ok(live) => live,
            Err(e) => return refused(e),
        };
        let counted = live.record_report(&report.area, report.problem, reporter);
        (counted, state.report_writes.read().await)
    };
    let stored = (state.notify_store)
        .add_report(
            at,
            &report.area,
            report.problem.as_str(),
            report.contact.as_deref(),
            counted,
            unix_now(),
        )
        .await;
    let id = match stored {
        Ok(id) => id,
        // Counted already: sent again, it would count twice.
        Err(e) => {
            tracing::warn!(error = %e, "a customer report was counted but not stored");
            let note = "your report was counted, but the database could not store it, so we \
                        cannot email you when the problem is fixed; please do not send it again";
            if json {
                return Err(ApiError::Unavailable(note.into()));
            }
            return Ok(page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Thank you",
                &format!("<p>{}</p>", escape(note)),
            ));
        }
    };
    if json {
        return Ok((StatusCode::CREATED, Json(json!({ "report": id }))).into_response());
    }
    Ok(page(
        StatusCode::CREATED,
        "Thank you",
        if report.contact.is_some() {
            "<p>Your report counts. We will email you when the problem is fixed.</p>"
        } else {
            "<p>Your report counts. Follow the <a href=\"/\">status page</a> for updates.</p>"
        },
    ))
}

/// What the request asks for, as JSON or as a form; a form's missing
/// fields are empty, for [`check`] to refuse.
fn read(json: bool, headers: &HeaderMap, body: &[u8]) -> Result<ReportBody, ApiError> {
    if json {
        return serde_json::from_slice::<ReportBody>(body).map_err(|e| {
            ApiError::BadRequest(format!(
                "the body must be {{\"problem\": ..., \"area\": ..., \"contact\"?: ...}}: {e}"
            ))
        });
    }
    check_form(headers, body)?;
    Ok(ReportBody {
        problem: field(body, "problem"),
        area: field(body, "area"),
        contact: form_field(body, "contact").filter(|c| !c.trim().is_empty()),
    })
}

/// A report that passed the checks, ready to count.
struct CheckedReport {
    problem: Problem,
    area: String,
    contact: Option<String>,
}

/// The report against what exists, then the client's budget: everything
/// that can refuse it before it counts. A report refused as malformed
/// spends none of the budget, so a customer who corrects it is not kept
/// waiting.
fn check(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    b: &ReportBody,
) -> Result<CheckedReport, ApiError> {
    let problem = Problem::parse(&b.problem).ok_or_else(|| {
        let known: Vec<&str> = Problem::ALL.iter().map(|p| p.as_str()).collect();
        ApiError::BadRequest(format!(
            "unknown problem `{}`: use one of {}",
            b.problem,
            known.join(", ")
        ))
    })?;
    // Without a mail relay the form asks for no address: none is checked or kept.
    let asked_contact = b.contact.as_ref().filter(|_| state.notify.smtp.is_some());
    let contact = match asked_contact.map(|c| c.trim().to_string()) {
        Some(c) if !valid_email(&c) => {
            return Err(ApiError::BadRequest(format!(
                "`{c}` is not an email address"
            )));
        }
        other => other,
    };
    if !state.regions.contains(&b.area) {
        return Err(ApiError::BadRequest(format!(
            "unknown area `{}`: use one of {}",
            b.area,
            state.regions.join(", ")
        )));
    }
    state.limits.reports.admit(ip)?;
    Ok(CheckedReport {
        problem,
        area: b.area.clone(),
        // Kept only where a reply can be sent: an address nobody will write
        // to is personal data for nothing.
        contact,
    })
}
