//! Self-service subscriptions: email with double opt-in, webhooks signed
//! with a secret handed out once; unsubscribing by the token every message
//! carries. Admins list subscribers and the outbox over `/api/v1/`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dialtone_auth::{form_field, random_secret, sha256_hex};
use dialtone_model::Service;
use dialtone_notify::{check_webhook_url, confirmation_email};
use dialtone_store::{Channel, NewSubscriber, StoreError};
use serde::Deserialize;
use serde_json::json;

use crate::access::{client_ip, sent_from_another_site, unix_now};
use crate::console::{escape, region_checkboxes};
use crate::extract::Query;
use crate::{ApiError, AppState, HTML, check_form, field, read_body, read_form, ticked};

/// Longest email address (RFC 5321) and webhook URL accepted.
const MAX_EMAIL_CHARS: usize = 254;
const MAX_URL_CHARS: usize = 2000;
/// Outbox rows listed by `GET /api/v1/outbox`.
const OUTBOX_LISTED: u32 = 200;

pub(crate) fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}\
         fieldset{{margin:1rem 0}}label{{display:block;margin:.3rem 0}}code{{word-break:break-all}}</style></head>\
         <body><h1>{t}</h1>{body_html}<p><a href=\"/\">Back to the status page</a></p></body></html>",
        t = escape(title)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, HTML),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// Refusal `e` as a page for a browser: its message, then `more_html`,
/// with the status and headers the JSON answer would carry. The one place
/// an [`ApiError`] becomes HTML; a form that comes back with its error
/// (`form_page`) sets the same status and headers.
pub(crate) fn error_page(e: &ApiError, title: &str, more_html: &str) -> Response {
    let mut resp = page(
        e.status(),
        title,
        &format!(
            "<p role=\"alert\">{}</p>{more_html}",
            escape(&e.to_string())
        ),
    );
    e.add_headers(resp.headers_mut());
    resp
}

/// `GET /subscribe`: the form.
pub(crate) async fn form(State(state): State<AppState>) -> Response {
    form_page(&state, StatusCode::OK, &SubscribeBody::default(), None)
}

/// ` {attribute}` (` checked`, ` selected`) where `on`: a form that comes
/// back shows what was chosen.
pub(crate) fn chosen(on: bool, attribute: &'static str) -> &'static str {
    if on { attribute } else { "" }
}

/// The alert above a form that came back, `<b>{outcome}:</b>` and what was
/// wrong; nothing where nothing was.
pub(crate) fn form_alert(outcome: &str, error: Option<&str>) -> String {
    error.map_or_else(String::new, |e| {
        format!("<p role=\"alert\"><b>{outcome}:</b> {}</p>", escape(e))
    })
}

/// The form, filled in as `asked` and with `error` above it: a browser's
/// post that fails comes back with what was typed and what was wrong.
fn form_page(
    state: &AppState,
    status: StatusCode,
    asked: &SubscribeBody,
    error: Option<&str>,
) -> Response {
    let services: String = Service::ALL
        .iter()
        .map(|s| {
            format!(
                "<label><input type=\"checkbox\" name=\"service_{}\"{}> {}</label>",
                s.as_str(),
                chosen(asked.services.iter().any(|a| a == s.as_str()), " checked"),
                s.public_name()
            )
        })
        .collect();
    let regions = region_checkboxes(&state.regions, |r| asked.regions.iter().any(|a| a == r));
    let error = form_alert("Not subscribed", error);
    let value = |v: &Option<String>| escape(v.as_deref().unwrap_or_default());
    let email_note = if state.notify.smtp.is_some() {
        ""
    } else {
        "<p>Email notifications are not set up on this server: use a webhook or the <a href=\"/history.atom\">Atom feed</a>.</p>"
    };
    page(
        status,
        "Get notified of incidents",
        &format!(
            "{error}<form method=\"post\" action=\"/subscribe\">{email_note}\
             <label>Email <input type=\"email\" name=\"email\" autocomplete=\"email\" value=\"{email}\"></label>\
             <label>or webhook URL <input type=\"url\" name=\"webhook\" value=\"{webhook}\"></label>\
             <fieldset><legend>Services (none ticked: all)</legend>{services}</fieldset>\
             <fieldset><legend>Areas (none ticked: all)</legend>{regions}</fieldset>\
             <button type=\"submit\">Subscribe</button></form>",
            email = value(&asked.email),
            webhook = value(&asked.webhook),
        ),
    )
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeBody {
    email: Option<String>,
    webhook: Option<String>,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    regions: Vec<String>,
}

/// Whether the body is JSON. Media types ignore case (RFC 9110), as the
/// form check does: `Application/JSON` is JSON too.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    crate::media_type(headers).is_some_and(|m| m.eq_ignore_ascii_case("application/json"))
}

/// What the request asks for: a JSON body that does not parse is an error,
/// and so is a form that cannot be read; fields a form lacks are empty.
fn read(headers: &HeaderMap, body: &Bytes, regions: &[String]) -> Result<SubscribeBody, ApiError> {
    Ok(if is_json(headers) {
        serde_json::from_slice::<SubscribeBody>(body).map_err(|e| {
            ApiError::BadRequest(format!(
                "the body must be {{\"email\": ...}} or {{\"webhook\": ...}} with optional \"services\" and \"regions\" lists: {e}"
            ))
        })?
    } else {
        check_form(headers, body)?;
        SubscribeBody {
            email: form_field(body, "email"),
            webhook: form_field(body, "webhook"),
            services: ticked(body, "service_", Service::ALL.iter().map(|s| s.as_str())),
            regions: ticked(body, "region_", regions.iter().map(String::as_str)),
        }
    })
}

/// The request as a subscription, checked against what exists. A name
/// sent twice is kept once; a blank address is no address, as a form's
/// empty field is.
fn check(
    mut b: SubscribeBody,
    regions: &[String],
    allow_private_webhooks: bool,
) -> Result<NewSubscriber, ApiError> {
    for names in [&mut b.services, &mut b.regions] {
        let mut seen = std::collections::HashSet::new();
        names.retain(|n| seen.insert(n.clone()));
    }
    let given = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    for s in &b.services {
        if Service::parse(s).is_none() {
            return Err(ApiError::BadRequest(format!(
                "unknown service `{s}`: use registration, voice or data"
            )));
        }
    }
    for r in &b.regions {
        if !regions.contains(r) {
            return Err(ApiError::BadRequest(format!(
                "unknown region `{r}`: use one of {}",
                regions.join(", ")
            )));
        }
    }
    let (channel, target) = match (given(b.email), given(b.webhook)) {
        (Some(email), None) => {
            let email = email.trim().to_string();
            let email = with_lower_case_domain(&email);
            if !valid_email(&email) {
                return Err(ApiError::BadRequest(format!(
                    "`{email}` is not an email address"
                )));
            }
            (Channel::Email, email)
        }
        (None, Some(url)) => {
            let url = url.trim().to_string();
            if url.chars().count() > MAX_URL_CHARS {
                return Err(ApiError::BadRequest(format!(
                    "the webhook URL is longer than {MAX_URL_CHARS} characters"
                )));
            }
            // Stored as parsed, so delivery reads exactly the URL that was checked.
            let checked = check_webhook_url(&url, allow_private_webhooks)
                .map_err(|e| ApiError::BadRequest(e.to_string()))?;
            (Channel::Webhook, checked.to_string())
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give either an email address or a webhook URL, not both".into(),
            ));
        }
        (None, None) => {
            return Err(ApiError::BadRequest(
                "give an email address or a webhook URL to send notifications to".into(),
            ));
        }
    };
    Ok(NewSubscriber {
        channel,
        target,
        services: b.services,
        regions: b.regions,
    })
}

/// A plausible bare address: one `@` with something on each side, no
/// spaces, and none of the characters of a display name or a list of
/// addresses (`Name <a@example.net>` would be a second spelling of one
/// mailbox, and slip past the store's one-subscription-per-address rule).
/// The mail relay is the real judge; this only keeps garbage out of the store.
pub(crate) fn valid_email(email: &str) -> bool {
    email.chars().count() <= MAX_EMAIL_CHARS
        && email.split('@').count() == 2
        && !email.starts_with('@')
        && !email.ends_with('@')
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;:\"()[]\\".contains(c))
}

/// `email` with its domain in lower case, which mail ignores: one mailbox,
/// one spelling in the store.
fn with_lower_case_domain(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => email.to_owned(),
    }
}

fn secret() -> Result<String, ApiError> {
    random_secret().map_err(|e| ApiError::Internal(e.to_string()))
}

/// `POST /subscribe`, form or JSON. Email waits for the confirmation link;
/// a webhook is live at once and its signing secret is shown this once.
///
/// An address already confirmed gets the answer a new one gets, and no
/// mail: the form must not tell anyone who is subscribed. So does a webhook
/// URL already subscribed, with a secret and unsubscribe link of its own
/// that are never stored: its owner keeps the pair first handed out, and
/// whoever else knows the URL can neither tell nor take over its
/// notifications. Neither answer names the subscriber's row. One asked for
/// but not yet confirmed is asked again once the store's
/// `CONFIRM_AGAIN_AFTER_SECS` (10 minutes) have passed since its last link
/// (a new link; the store replaces the pending request), so nobody can block
/// an address by subscribing it first, nor fill its inbox.
/// Each client address has its own budget of requests
/// ([`crate::ServerConfig::subscribe_rate`]): every email request mails a
/// stranger, and every webhook is posted to at each incident.
pub(crate) async fn subscribe(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    let ip = client_ip(&req, &state.limits.trusted_proxies);
    let json = is_json(req.headers());
    let (parts, body) = req.into_parts();
    // A browser's form comes back with what was wrong, even when the body
    // could not be read at all (then with nothing filled in).
    let read = (read_body(body).await).and_then(|body| read(&parts.headers, &body, &state.regions));
    let (asked, done) = match read {
        Ok(asked) => {
            let done = match sent_from_another_site(&parts.headers, &state.notify.base_url) {
                Some(forged) => Err(forged),
                None => subscribe_as_asked(&state, ip, asked.clone(), json).await,
            };
            (asked, done)
        }
        Err(e) => (SubscribeBody::default(), Err(e)),
    };
    match done {
        Err(e) if !json => {
            let mut shown = form_page(&state, e.status(), &asked, Some(&e.to_string()));
            e.add_headers(shown.headers_mut());
            Ok(shown)
        }
        done => done,
    }
}

async fn subscribe_as_asked(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    asked: SubscribeBody,
    json: bool,
) -> Result<Response, ApiError> {
    state.limits.subscribe.admit(ip)?;
    let new = check(asked, &state.regions, state.notify.allow_private_webhooks)?;
    let now = unix_now();
    let unsubscribe = secret()?;
    match new.channel {
        Channel::Email => {
            if state.notify.smtp.is_none() {
                return Err(ApiError::Unavailable(
                    "email notifications are not set up on this server: subscribe with a webhook or follow /history.atom".into(),
                ));
            }
            let token = secret()?;
            let added = state
                .notify_store
                .add_subscriber(
                    &new,
                    Some(&sha256_hex(token.as_bytes())),
                    None,
                    &unsubscribe,
                    now,
                )
                .await;
            match added {
                Ok(sub) => {
                    let mail = confirmation_email(
                        &state.page_name,
                        &state.notify.base_url,
                        &sub.target,
                        sub.id,
                        &token,
                        now,
                    );
                    if let Err(e) = state.notify_store.enqueue(&[mail], now).await {
                        // Without its email the sign-up could never be
                        // confirmed, and would turn a retry away as a
                        // conflict for ten minutes: undone, so the retry
                        // starts afresh (the delete may fail as the insert
                        // did; the error answered is the first).
                        let _ = state.notify_store.unsubscribe(&unsubscribe).await;
                        return Err(e.into());
                    }
                }
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
            if json {
                // The request, not the stored row: the same for an address
                // new to us and one already confirmed.
                return Ok((
                    StatusCode::ACCEPTED,
                    Json(json!({
                        "subscriber": {
                            "channel": Channel::Email,
                            "target": new.target,
                            "services": new.services,
                            "regions": new.regions,
                        },
                        "next": format!("follow the link sent to {} to confirm", new.target),
                    })),
                )
                    .into_response());
            }
            Ok(page(
                StatusCode::ACCEPTED,
                "Check your inbox",
                &format!(
                    "<p>We sent a confirmation link to <b>{}</b>. Nothing more is sent until you follow it.</p>",
                    escape(&new.target)
                ),
            ))
        }
        Channel::Webhook => {
            let signing = secret()?;
            let added = state
                .notify_store
                .add_subscriber(&new, None, Some(&signing), &unsubscribe, now)
                .await;
            match added {
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
            if json {
                return Ok((
                    StatusCode::CREATED,
                    Json(json!({
                        "subscriber": {
                            "channel": Channel::Webhook,
                            "target": new.target,
                            "services": new.services,
                            "regions": new.regions,
                            "confirmed": true,
                        },
                        "secret": signing,
                        "signature_header": dialtone_notify::SIGNATURE_HEADER,
                        "unsubscribe": format!("{}/unsubscribe?token={unsubscribe}", state.notify.base_url),
                    })),
                )
                    .into_response());
            }
            Ok(page(
                StatusCode::CREATED,
                "Webhook subscribed",
                &format!(
                    "<p>Notifications go to <code>{}</code>, signed in the <code>{}</code> header as \
                     <code>sha256=</code> HMAC-SHA256 of the body with this secret, shown only now:</p>\
                     <p><code>{}</code></p>",
                    escape(&new.target),
                    dialtone_notify::SIGNATURE_HEADER,
                    escape(&signing)
                ),
            ))
        }
    }
}

/// A link's query, every pair as sent: read into a struct, a token given
/// twice would be a parser's error instead of the page a bad link gets.
type LinkQuery = Query<Vec<(String, String)>>;

/// The token of a link in a mail, if the link holds exactly one: missing
/// (a link cut short by a mail client) or given twice, the link is no link
/// of ours, and its page says so as it does for any other.
fn link_token(query: Vec<(String, String)>) -> Option<String> {
    let mut tokens = query.into_iter().filter(|(k, _)| k == "token");
    match (tokens.next(), tokens.next()) {
        (Some((_, token)), None) if !token.is_empty() => Some(token),
        _ => None,
    }
}

/// `GET /subscribe/confirm?token=`: the double opt-in link's page, a
/// button. Mail security scanners and chat previews fetch the links in a
/// mail by themselves; were the link to confirm, a stranger's sign-up of an
/// address whose mail is scanned would confirm itself, and the opt-in would
/// be single.
pub(crate) async fn confirm_page(Query(query): LinkQuery) -> Response {
    LinkButton {
        link: "confirmation",
        sent_in: "email",
        title: "Confirm your subscription",
        action: "/subscribe/confirm",
        label: "Send me notifications",
    }
    .page(query)
}

/// `POST /subscribe/confirm` with the form field `token`: the double opt-in.
pub(crate) async fn confirm(State(state): State<AppState>, req: Request) -> Response {
    let not_done = |e: ApiError| {
        error_page(
            &e,
            "Not subscribed",
            "<p>Open the link in the email again and press its button.</p>",
        )
    };
    let token = match read_form(req).await {
        Ok(body) => field(&body, "token"),
        Err(e) => return not_done(e),
    };
    let confirmed = if token.is_empty() {
        None
    } else {
        match (state.notify_store)
            .confirm_subscriber(&sha256_hex(token.as_bytes()), unix_now())
            .await
        {
            Ok(confirmed) => confirmed,
            Err(e) => return not_done(e.into()),
        }
    };
    match confirmed {
        Some(sub) => page(
            StatusCode::OK,
            "Subscribed",
            &format!(
                "<p><b>{}</b> will hear about incidents as they open, change and resolve.</p>",
                escape(&sub.target)
            ),
        ),
        None => page(
            StatusCode::NOT_FOUND,
            "Link not valid",
            "<p>This confirmation link is not valid, was already used, or was replaced by a newer \
             one. Subscribe again to get a new link.</p>",
        ),
    }
}

/// What a link in a mail leads to where following it must not be enough:
/// a page with one button that posts the link's token to `action`.
struct LinkButton {
    /// What the link is, and what it was sent in, for a link cut short.
    link: &'static str,
    sent_in: &'static str,
    title: &'static str,
    action: &'static str,
    label: &'static str,
}

impl LinkButton {
    fn page(&self, query: Vec<(String, String)>) -> Response {
        let Some(token) = link_token(query) else {
            return page(
                StatusCode::NOT_FOUND,
                "Link not valid",
                &format!(
                    "<p>This {} link is incomplete: open the whole link from the {}.</p>",
                    self.link, self.sent_in
                ),
            );
        };
        page(
            StatusCode::OK,
            self.title,
            &format!(
                "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"token\" value=\"{}\">\
                 <button type=\"submit\">{}</button></form>",
                self.action,
                escape(&token),
                self.label
            ),
        )
    }
}

/// `GET /unsubscribe?token=`: a button, so a mail scanner following the
/// link does not unsubscribe anyone.
pub(crate) async fn unsubscribe_page(Query(query): LinkQuery) -> Response {
    LinkButton {
        link: "unsubscribe",
        sent_in: "notification",
        title: "Unsubscribe",
        action: "/unsubscribe",
        label: "Stop notifications",
    }
    .page(query)
}

/// `POST /unsubscribe` with the form field `token`.
pub(crate) async fn unsubscribe(State(state): State<AppState>, req: Request) -> Response {
    // The button of a link's page: a refusal is a page too, not JSON.
    let not_done = |e: ApiError| {
        error_page(
            &e,
            "Not unsubscribed",
            "<p>Open the link in the notification again and press its button.</p>",
        )
    };
    // RFC 8058 one-click: a mail client POSTs to the List-Unsubscribe URL,
    // the token in its query, with a body (`List-Unsubscribe=One-Click`,
    // url-encoded or multipart) that says nothing more. The token in the
    // address is the capability, as the page's button's is.
    let in_query = (req.uri().query())
        .and_then(|q| dialtone_auth::form_pairs(q.as_bytes()).ok())
        .and_then(link_token);
    let token = match in_query {
        Some(token) => token,
        None => match read_form(req).await {
            Ok(body) => field(&body, "token"),
            Err(e) => return not_done(e),
        },
    };
    let removed = match state.notify_store.unsubscribe(&token).await {
        Ok(removed) => removed,
        Err(e) => return not_done(e.into()),
    };
    if removed {
        page(
            StatusCode::OK,
            "Unsubscribed",
            "<p>No more notifications will be sent.</p>",
        )
    } else {
        page(
            StatusCode::NOT_FOUND,
            "Already unsubscribed",
            "<p>This link is not valid or was already used.</p>",
        )
    }
}

/// How many subscribers `GET /api/v1/subscribers` lists unless asked, and at most.
const SUBSCRIBERS_LISTED: u32 = 500;
const MAX_SUBSCRIBERS_LISTED: u32 = 5000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubscribersQuery {
    after: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/v1/subscribers[?after=ID][&limit=N]` (admin): `N` subscribers
/// (500 unless asked, at most 5,000) in id order, from the first with an id
/// above `ID`; `next_after` is the `after` of the next page, null on the
/// last. A national list of millions is read a page at a time.
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(q): Query<SubscribersQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = q.limit.unwrap_or(SUBSCRIBERS_LISTED);
    if !(1..=MAX_SUBSCRIBERS_LISTED).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit={limit}: list 1 to {MAX_SUBSCRIBERS_LISTED} subscribers at a time; \
             the next page starts after the `next_after` of this one"
        )));
    }
    let subs = (state.notify_store)
        .subscribers_after(q.after.unwrap_or(0), limit)
        .await?;
    let next_after = (subs.len() == limit as usize)
        .then(|| subs.last().map(|s| s.id))
        .flatten();
    Ok(Json(
        json!({ "subscribers": subs, "next_after": next_after }),
    ))
}

/// `GET /api/v1/outbox` (admin): recent outbound messages and their delivery state.
pub(crate) async fn outbox(
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let messages = state.notify_store.outbox(OUTBOX_LISTED).await?;
    Ok(Json(json!({ "messages": messages })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_mailbox_has_one_spelling() {
        assert!(valid_email("ada@example.net"));
        for other_spelling in [
            "Ada <ada@example.net>",
            "ada@example.net, b@example.net",
            "\"a\"@x",
        ] {
            assert!(!valid_email(other_spelling), "{other_spelling}");
        }
        assert_eq!(with_lower_case_domain("Ada@Example.NET"), "Ada@example.net");
    }
}
