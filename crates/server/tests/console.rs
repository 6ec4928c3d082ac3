//! The operator console as a browser uses it: what its forms start at, who
//! sees them, and the page every refusal of one comes back as.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Harness, Reply, assert_page, authed, harness, live_with_incident, send};
use dialtone_auth::{Role, new_session};
use dialtone_server::unix_now;
use dialtone_store::AuthStore;
use serde_json::json;

const FORM: &str = "application/x-www-form-urlencoded";

struct Session {
    cookie: String,
    csrf: String,
}

/// A console session for a new user `name` with `role`, lasting `secs`
/// (negative: one that has expired).
async fn session(h: &Harness, name: &str, role: Role, secs: i64) -> Session {
    let user = h.store.add_user(name, role, None, 0).await.unwrap();
    let s = new_session().unwrap();
    let now = unix_now();
    (h.store)
        .add_session(&s.id_hash, user.id, &s.csrf, now - 60, now + secs)
        .await
        .unwrap();
    Session {
        cookie: format!("dialtone_session={}", s.cookie_value),
        csrf: s.csrf,
    }
}

impl Session {
    async fn get(&self, h: &Harness, path: &str) -> Reply {
        let req = Request::get(path).header("cookie", &self.cookie);
        send(h.router(), req.body(Body::empty()).unwrap()).await
    }

    /// Posts `fields` as the console's form does, with the session's token.
    async fn post(&self, h: &Harness, path: &str, fields: &str) -> Reply {
        self.post_as(h, path, FORM, format!("csrf={}&{fields}", self.csrf))
            .await
    }

    async fn post_as(&self, h: &Harness, path: &str, content_type: &str, body: String) -> Reply {
        let req = Request::post(path)
            .header("cookie", &self.cookie)
            .header("content-type", content_type);
        send(h.router(), req.body(Body::from(body)).unwrap()).await
    }
}

/// The `<section>` of incident `id` on a console page.
fn section(page: &str, id: u64) -> &str {
    let start = page
        .find(&format!("id=\"incident-{id}\""))
        .unwrap_or_else(|| panic!("no incident {id}: {page}"));
    let end = page[start..].find("</section>").unwrap() + start;
    &page[start..end]
}

/// The console form posting `action` within `html`.
fn form<'a>(html: &'a str, action: &str) -> &'a str {
    let start = html
        .find(&format!("class=\"{action}\""))
        .unwrap_or_else(|| panic!("no {action} form: {html}"));
    let end = html[start..].find("</form>").unwrap() + start;
    &html[start..end]
}

/// A form sent untouched must not move the incident: the status dropdown
/// starts at the current status, the severity dropdown at the severity.
#[tokio::test]
async fn the_dropdowns_start_at_the_incidents_current_values() {
    let h = harness(live_with_incident()).await;
    let op = h.token("otto", Role::Operator).await;
    for (path, body) in [
        (
            "updates",
            json!({"status": "monitoring", "body": "A fix is in."}),
        ),
        ("severity", json!({"severity": "critical"})),
    ] {
        let path = format!("/api/v1/incidents/1/{path}");
        let r = send(h.router(), authed("POST", &path, &op, Some(body))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let s = session(&h, "sam", Role::Operator, 3600).await;
    let page = s.get(&h, "/console").await.body;
    let incident = section(&page, 1);
    assert!(form(incident, "update").contains("<option selected>monitoring</option>"));
    assert!(form(incident, "severity").contains("<option selected>critical</option>"));
    assert_eq!(form(incident, "update").matches(" selected").count(), 1);
}

/// A viewer is shown no form it may not send, and told why.
#[tokio::test]
async fn a_viewer_sees_no_action_forms_but_a_line_saying_why() {
    let h = harness(live_with_incident()).await;
    let viewer = session(&h, "vera", Role::Viewer, 3600).await;
    let page = viewer.get(&h, "/console").await;
    assert_page(
        &page,
        StatusCode::OK,
        &["id=\"view-only\"", "You are a viewer"],
    );
    for form in [
        "id=\"declare\"",
        "class=\"update\"",
        "class=\"severity\"",
        "{{",
    ] {
        assert!(!page.body.contains(form), "{form}: {}", page.body);
    }
    assert!(
        page.body.contains("Acknowledged by nobody"),
        "the state still shows"
    );
    let operator = session(&h, "otto", Role::Operator, 3600).await;
    let page = operator.get(&h, "/console").await.body;
    assert!(page.contains("id=\"declare\"") && page.contains("class=\"update\""));
    assert!(
        !page.contains("view-only") && !page.contains("{{"),
        "{page}"
    );
}

/// The access guard's refusals of a console form are pages with the typed
/// text to copy, never JSON, and never a button resending what was refused.
#[tokio::test]
async fn refused_console_forms_come_back_as_pages_with_the_text() {
    let h = harness(live_with_incident()).await;
    let update = "action=update&status=identified&body=Engineers+on+site.";
    let typed = ">Engineers on site.</textarea>";

    let viewer = session(&h, "vera", Role::Viewer, 3600).await;
    let r = viewer.post(&h, "/console/incidents/1", update).await;
    assert_page(
        &r,
        StatusCode::FORBIDDEN,
        &["Not done", "needs the operator role", typed],
    );
    assert!(!r.body.contains("Send again"));

    let otto = session(&h, "otto", Role::Operator, 3600).await;
    let forged = format!("csrf=0&{update}");
    let r = otto.post_as(&h, "/console/incidents/1", FORM, forged).await;
    assert_page(
        &r,
        StatusCode::FORBIDDEN,
        &["this form is out of date", typed],
    );
    assert!(!r.body.contains("Send again") && !r.body.contains(&otto.csrf));

    let expired = session(&h, "olga", Role::Operator, -1).await;
    let r = expired
        .post(
            &h,
            "/console/incidents",
            "title=Calls+dropping&body=Looking.",
        )
        .await;
    assert_page(
        &r,
        StatusCode::UNAUTHORIZED,
        &[
            "session has expired",
            "href=\"/login\"",
            "value=\"Calls dropping\"",
        ],
    );

    // A multipart form with the right token is unreadable, not forged.
    let multipart = format!(
        "--x\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--x--\r\n",
        otto.csrf
    );
    let multipart_type = "multipart/form-data; boundary=x";
    let r = otto
        .post_as(&h, "/console/incidents/1", multipart_type, multipart)
        .await;
    assert_page(
        &r,
        StatusCode::BAD_REQUEST,
        &["the form could not be read", "url"],
    );
    assert!(!r.body.contains("CSRF"), "{}", r.body);
}

/// After a failed post the address bar shows the form's URL: reloading it
/// leads back to the console.
#[tokio::test]
async fn reloading_a_forms_address_goes_back_to_the_console() {
    let h = harness(live_with_incident()).await;
    let s = session(&h, "vera", Role::Viewer, 3600).await;
    for (path, to) in [
        ("/console/incidents/1", "/console#incident-1"),
        ("/console/incidents", "/console"),
    ] {
        let r = s.get(&h, path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
        assert_eq!(r.headers["location"], to);
    }
}

/// Assign, merge and resolve from the console, as the API does them.
#[tokio::test]
async fn the_console_assigns_merges_and_resolves() {
    let h = harness(live_with_incident()).await;
    let op = h.token("ada", Role::Operator).await;
    let s = session(&h, "otto", Role::Operator, 3600).await;
    let page = s.get(&h, "/console").await.body;
    for action in ["assign", "merge", "resolve"] {
        form(section(&page, 1), action);
    }
    let r = s
        .post(
            &h,
            "/console/incidents",
            "title=Calls+dropping&body=Looking.",
        )
        .await;
    assert_eq!(r.headers["location"], "/console#incident-2", "{}", r.body);
    let declared = &h.store.audit_log(1).await.unwrap()[0];
    assert_eq!(
        (declared.action.as_str(), declared.target.as_str()),
        ("declare", "incident 2")
    );

    let r = s
        .post(
            &h,
            "/console/incidents/2",
            "action=assign&assignee=core-team",
        )
        .await;
    assert_eq!(r.headers["location"], "/console#incident-2", "{}", r.body);
    let r = s
        .post(&h, "/console/incidents/2", "action=merge&into=1")
        .await;
    assert_eq!(r.headers["location"], "/console#incident-1", "{}", r.body);
    let r = s
        .post(
            &h,
            "/console/incidents/1",
            "action=resolve&body=Calls+work+again.",
        )
        .await;
    assert_eq!(r.headers["location"], "/console#incident-1", "{}", r.body);

    let get = |id: u64| authed("GET", &format!("/api/v1/incidents/{id}"), &op, None);
    let merged = send(h.router(), get(2)).await.json();
    assert_eq!(merged["incident"]["operator"]["assignee"], "core-team");
    assert_eq!(merged["incident"]["operator"]["merged_into"], 1);
    let resolved = send(h.router(), get(1)).await.json();
    assert_eq!(resolved["incident"]["status"], "resolved");
    let public = common::get(h.router(), "/").await.body;
    assert!(public.contains("Calls work again."));
}

/// The declare form offers the topology's areas; those ticked are the
/// declared incident's, and come back ticked when the form is refused.
#[tokio::test]
async fn the_console_declares_an_incident_for_the_areas_ticked() {
    let h = harness(live_with_incident()).await;
    let area = h.state.live.lock().await.regions()[0].clone();
    let s = session(&h, "otto", Role::Operator, 3600).await;
    let checkbox = format!("<input type=\"checkbox\" name=\"region_{area}\">");
    let page = s.get(&h, "/console").await.body;
    let declare_form = &page[page.find("id=\"declare\"").expect("a declare form")..];
    let declare_form = &declare_form[..declare_form.find("</form>").unwrap()];
    assert!(declare_form.contains(&checkbox), "{page}");

    let refused = format!("title=Calls+dropping&severity=huge&body=Looking.&region_{area}=on");
    let r = s.post(&h, "/console/incidents", &refused).await;
    let ticked = format!("<input type=\"checkbox\" name=\"region_{area}\" checked>");
    assert_page(&r, StatusCode::BAD_REQUEST, &["Send again", &ticked]);

    let sent = format!("title=Calls+dropping&body=Looking.&region_{area}=on");
    let r = s.post(&h, "/console/incidents", &sent).await;
    assert_eq!(r.headers["location"], "/console#incident-2", "{}", r.body);
    let op = h.token("ada", Role::Operator).await;
    let declared = send(h.router(), authed("GET", "/api/v1/incidents/2", &op, None))
        .await
        .json();
    assert_eq!(declared["incident"]["impact"]["regions"][0]["region"], area);
}

/// A refused value comes back as a dropdown with nothing chosen, to send
/// again once chosen; what cannot succeed however it is sent (409) has no
/// button, only the way back to the console.
#[tokio::test]
async fn a_failed_form_is_offered_again_only_where_it_can_succeed() {
    let h = harness(live_with_incident()).await;
    let s = session(&h, "otto", Role::Operator, 3600).await;
    let r = s
        .post(
            &h,
            "/console/incidents",
            "title=Calls+dropping&severity=huge&body=Looking.",
        )
        .await;
    assert_page(
        &r,
        StatusCode::BAD_REQUEST,
        &[
            "unknown severity `huge`",
            "<option value=\"\" selected disabled>choose one</option><option>none</option>",
            "Send again",
            &s.csrf,
        ],
    );
    assert!(
        !r.body.contains("huge\""),
        "the refused value is not sent again"
    );

    let r = s
        .post(
            &h,
            "/console/incidents/1",
            "action=update&status=postmortem&body=Done.",
        )
        .await;
    // The console offers no postmortem status: refused as unknown, with
    // the status to choose again.
    assert_page(
        &r,
        StatusCode::BAD_REQUEST,
        &["unknown status `postmortem`", ">Done.</textarea>"],
    );

    for status in [StatusCode::SEE_OTHER, StatusCode::CONFLICT] {
        let r = s
            .post(&h, "/console/incidents/1", "action=acknowledge")
            .await;
        assert_eq!(r.status, status, "{}", r.body);
    }
    let r = s
        .post(&h, "/console/incidents/1", "action=acknowledge")
        .await;
    assert_page(&r, StatusCode::CONFLICT, &["already acknowledged by otto"]);
    assert!(!r.body.contains("Send again"), "{}", r.body);
}

/// Signing out of a session that has already ended goes to the sign-in page.
#[tokio::test]
async fn signing_out_of_an_expired_session_goes_to_sign_in() {
    let h = harness(live_with_incident()).await;
    let s = session(&h, "otto", Role::Operator, -1).await;
    let r = s.post(&h, "/logout", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.headers["location"], "/login");
    let cleared = r.headers["set-cookie"].to_str().unwrap();
    assert!(cleared.starts_with("dialtone_session=;"), "{cleared}");
}

/// Ids are unique on the page; a hand-declared incident shows no empty
/// evidence; a browser is pointed at the console, not the API.
#[tokio::test]
async fn the_console_reads_plainly() {
    let h = harness(live_with_incident()).await;
    let s = session(&h, "otto", Role::Operator, 3600).await;
    let r = s
        .post(
            &h,
            "/console/incidents",
            "title=Calls+dropping&body=Looking.",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.get(&h, "/console").await.body;
    let mut ids: Vec<&str> = page
        .split(" id=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "{ids:?}");
    let by_hand = section(&page, 2);
    assert!(by_hand.contains("none: declared by hand"), "{by_hand}");
    assert!(!by_hand.contains("class=\"candidates\"") && !by_hand.contains("Affected KPIs"));
    let found = section(&page, 1);
    assert!(found.contains("class=\"candidates\"") && found.contains("Affected KPIs"));

    for r in [
        s.post(&h, "/console/incidents/99", "action=acknowledge")
            .await,
        s.get(&h, "/console/incidents/99/postmortem").await,
    ] {
        assert_page(
            &r,
            StatusCode::NOT_FOUND,
            &["no incident 99", "href=\"/console\""],
        );
        assert!(!r.body.contains("/api/v1"), "{}", r.body);
    }
}

/// A console address with no incident number in it is answered with the
/// console's page, not the API's JSON; a form sent there keeps its text.
#[tokio::test]
async fn a_malformed_console_address_gets_a_page() {
    let h = harness(live_with_incident()).await;
    let s = session(&h, "otto", Role::Operator, 3600).await;
    for r in [
        s.get(&h, "/console/incidents/abc").await,
        s.get(&h, "/console/incidents/abc/postmortem").await,
        s.post(
            &h,
            "/console/incidents/abc",
            "action=update&status=identified&body=Engineers+on+site.",
        )
        .await,
    ] {
        assert_page(
            &r,
            StatusCode::BAD_REQUEST,
            &["Not done", "abc", "href=\"/console\""],
        );
    }
    let r = s
        .post(
            &h,
            "/console/incidents/abc",
            "action=update&body=Engineers+on+site.",
        )
        .await;
    assert_page(
        &r,
        StatusCode::BAD_REQUEST,
        &[">Engineers on site.</textarea>"],
    );
    assert!(!r.body.contains("Send again"), "{}", r.body);
}
