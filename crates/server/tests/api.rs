//! The operator API and the console: authentication, roles and CSRF on every
//! route of the route table, operator actions reaching the public page, and
//! the sign-in flow.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{
    Harness, assert_page, authed, declare, first_cell, get, harness, harness_notifying,
    harness_with, live_after, live_with_incident, press_link_button, send,
};
use dialtone_auth::Role;
use dialtone_notify::{NotifyConfig, SmtpConfig, SmtpSecurity};
use dialtone_server::{Access, Rate, ServerConfig, Verb, routes};
use dialtone_store::{AuthStore, PlanStore};
use serde_json::json;

/// A concrete path for a route pattern.
fn concrete(path: &str) -> String {
    path.replace("{id}", "1").replace("{*file}", "summary.json")
}

fn request(verb: Verb, path: &str) -> axum::http::request::Builder {
    Request::builder().method(verb.method()).uri(concrete(path))
}

/// Every route in the table: writes refuse anonymous callers (401) and callers
/// below the route's role (403); viewers read but cannot write; a session
/// cookie without the CSRF token cannot write.
#[tokio::test]
async fn every_route_enforces_authentication_roles_and_csrf() {
    let h = harness(live_after(0)).await;
    let viewer = h.token("vera", Role::Viewer).await;
    let operator = h.token("otto", Role::Operator).await;
    let admin = h.token("ada", Role::Admin).await;
    let session = sign_in_as(&h, "sam", Role::Admin).await;
    let table = routes();
    assert!(table.len() >= 20, "the whole table is enumerated");

    for spec in &table {
        let label = format!("{:?} {}", spec.verb, spec.path);
        let Access::Signed(needed) = spec.access else {
            // The only public writes are signing in and (un)subscribing, each
            // guarded by what it takes: a password, a double opt-in, a token.
            assert!(
                spec.verb == Verb::Get
                    || [
                        "/login",
                        "/login/link",
                        "/subscribe",
                        "/unsubscribe",
                        "/subscribe/confirm",
                        "/report"
                    ]
                    .contains(&spec.path),
                "{label} is public but writes"
            );
            let takes_a_token = ["/login/link", "/subscribe/confirm", "/unsubscribe"];
            if spec.verb == Verb::Post || takes_a_token.contains(&spec.path) {
                continue; // each has its own tests (here and in tests/respond.rs)
            }
            if spec.path == "/incidents/{id}" {
                // This harness has no incident: tests/http.rs follows every
                // incident's link to its page.
                continue;
            }
            let r = send(
                h.router(),
                request(spec.verb, spec.path).body(Body::empty()).unwrap(),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{label} is public");
            continue;
        };
        let anonymous = send(
            h.router(),
            request(spec.verb, spec.path).body(Body::empty()).unwrap(),
        )
        .await;
        // A browser page sends an anonymous reader to sign in; signing out
        // without a session is already done.
        if (spec.verb == Verb::Get && spec.browser) || spec.path == "/logout" {
            assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "{label}");
            assert_eq!(anonymous.headers["location"], "/login", "{label}");
        } else {
            assert_eq!(
                anonymous.status,
                StatusCode::UNAUTHORIZED,
                "{label}: {}",
                anonymous.body
            );
        }
        let forged = send(
            h.router(),
            request(spec.verb, spec.path)
                .header("authorization", "Bearer dt_0000000000000000_0000000000000000000000000000000000000000000000000000000000000000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(
            forged.status, anonymous.status,
            "{label}: a made-up token is no token"
        );

        for (role, token) in [
            (Role::Viewer, &viewer),
            (Role::Operator, &operator),
            (Role::Admin, &admin),
        ] {
            let r = send(
                h.router(),
                authed(
                    spec.verb.method().as_str(),
                    &concrete(spec.path),
                    token,
                    None,
                ),
            )
            .await;
            if role.allows(needed) {
                assert!(
                    r.status != StatusCode::UNAUTHORIZED && r.status != StatusCode::FORBIDDEN,
                    "{label} as {role}: {} {}",
                    r.status,
                    r.body
                );
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{label} as {role}: {}",
                    r.body
                );
                assert!(
                    r.body.contains(needed.as_str()),
                    "{label}: the error names the role"
                );
            }
        }
        if spec.verb == Verb::Post {
            assert!(
                needed != Role::Viewer || spec.path == "/logout",
                "{label}: viewers never write (signing out aside)"
            );
            let no_csrf = send(
                h.router(),
                request(spec.verb, spec.path)
                    .header("cookie", format!("dialtone_session={}", session.cookie))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(
                no_csrf.status,
                StatusCode::FORBIDDEN,
                "{label}: session without CSRF token"
            );
            assert!(no_csrf.body.contains("CSRF"), "{label}");
        }
    }
}

struct SignedIn {
    cookie: String,
    csrf: String,
}

fn set_cookie_value(r: &common::Reply, name: &str) -> Option<String> {
    r.headers.get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let rest = v.strip_prefix(&format!("{name}="))?;
        Some(rest.split(';').next()?.to_string())
    })
}

/// The sign-in form's post: `cookies` as the browser sends them (the
/// form's CSRF cookie among them), its `csrf` field, a name and password.
fn login_post(cookies: &str, csrf: &str, name: &str, password: &str) -> Request<Body> {
    Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookies)
        .body(Body::from(format!(
            "csrf={csrf}&username={name}&password={}",
            password.replace(' ', "+")
        )))
        .unwrap()
}

/// Signs in through the real form; returns the session cookie and its CSRF token.
async fn sign_in_as(h: &Harness, name: &str, role: Role) -> SignedIn {
    let password = "correct horse battery staple";
    let hash = dialtone_auth::hash_password(password).unwrap();
    h.store.add_user(name, role, Some(&hash), 0).await.unwrap();
    let form = get(h.router(), "/login").await;
    assert_eq!(form.status, StatusCode::OK);
    let login_csrf = set_cookie_value(&form, "dialtone_login_csrf").unwrap();
    assert!(
        form.body.contains(&login_csrf),
        "the form carries the double-submit token"
    );
    let cookies = format!("dialtone_login_csrf={login_csrf}");
    let r = send(
        h.router(),
        login_post(&cookies, &login_csrf, name, password),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.headers["location"], "/console");
    let set = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let session_header = set
        .iter()
        .find(|c| c.starts_with("dialtone_session="))
        .unwrap();
    assert!(session_header.contains("HttpOnly") && session_header.contains("SameSite=Strict"));
    let cookie = set_cookie_value(&r, "dialtone_session").unwrap();
    let console = send(
        h.router(),
        Request::get("/console")
            .header("cookie", format!("dialtone_session={cookie}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(console.status, StatusCode::OK);
    assert!(console.body.contains(&format!("<b id=\"user\">{name}</b>")));
    let marker = "name=\"csrf\" value=\"";
    let at = console.body.find(marker).unwrap() + marker.len();
    let csrf = console.body[at..at + 64].to_string();
    SignedIn { cookie, csrf }
}

#[tokio::test]
async fn a_wrong_password_or_a_stale_form_does_not_sign_in() {
    let h = harness(live_after(0)).await;
    let hash = dialtone_auth::hash_password("correct horse battery staple").unwrap();
    h.store
        .add_user("ada", Role::Admin, Some(&hash), 0)
        .await
        .unwrap();
    let login = |csrf_cookie: &str, csrf_field: &str, password: &str| {
        let cookies = format!("dialtone_login_csrf={csrf_cookie}");
        login_post(&cookies, csrf_field, "ada", password)
    };
    let wrong = send(h.router(), login("abc", "abc", "nope")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong user name or password"));
    // Only the password is typed again.
    assert!(
        wrong.body.contains("name=\"username\" value=\"ada\""),
        "{}",
        wrong.body
    );
    assert!(set_cookie_value(&wrong, "dialtone_session").is_none());
    let forged = send(
        h.router(),
        login("abc", "xyz", "correct+horse+battery+staple"),
    )
    .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "login CSRF: the field must match the cookie"
    );
    let audit = h.store.audit_log(10).await.unwrap();
    assert_eq!(audit[0].action, "login_failed");
    assert_eq!(audit[0].actor, "ada", "a user's name is kept");
    // A name that is nobody's may be a password in the wrong field: not kept.
    let mistyped = Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", "dialtone_login_csrf=abc")
        .body(Body::from("csrf=abc&username=hunter2&password="))
        .unwrap();
    assert_eq!(
        send(h.router(), mistyped).await.status,
        StatusCode::UNAUTHORIZED
    );
    let audit = h.store.audit_log(10).await.unwrap();
    assert_eq!(audit[0].actor, "(unknown user name)");
    assert!(!format!("{audit:?}").contains("hunter2"));
    // Names are lowercase: a keyboard's capital first letter still signs in.
    let capitalised = Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", "dialtone_login_csrf=abc")
        .body(Body::from(
            "csrf=abc&username=Ada&password=correct+horse+battery+staple",
        ))
        .unwrap();
    assert_eq!(
        send(h.router(), capitalised).await.status,
        StatusCode::SEE_OTHER
    );
}

/// With `secure_cookies`, both cookies carry the `__Host-` prefix, which a
/// browser keeps only from this host over HTTPS; a cookie by the plain name
/// (as a sibling subdomain could plant) passes no check.
#[tokio::test]
async fn secure_cookies_carry_the_host_prefix_and_plain_names_are_not_read() {
    let config = ServerConfig {
        secure_cookies: true,
        ..ServerConfig::default()
    };
    let h = harness_with(live_after(0), config).await;
    let password = "correct horse battery staple";
    let hash = dialtone_auth::hash_password(password).unwrap();
    h.store
        .add_user("ada", Role::Admin, Some(&hash), 0)
        .await
        .unwrap();
    let form = get(h.router(), "/login").await;
    assert!(set_cookie_value(&form, "dialtone_login_csrf").is_none());
    let login_csrf = set_cookie_value(&form, "__Host-dialtone_login_csrf").unwrap();
    let sign_in = |cookie: String| login_post(&cookie, &login_csrf, "ada", password);
    let planted = send(
        h.router(),
        sign_in(format!("dialtone_login_csrf={login_csrf}")),
    )
    .await;
    assert_eq!(planted.status, StatusCode::FORBIDDEN);
    let r = send(
        h.router(),
        sign_in(format!("__Host-dialtone_login_csrf={login_csrf}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let session = set_cookie_value(&r, "__Host-dialtone_session").unwrap();
    let console = |name: &str| {
        Request::get("/console")
            .header("cookie", format!("{name}={session}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        send(h.router(), console("__Host-dialtone_session"))
            .await
            .status,
        StatusCode::OK
    );
    assert_ne!(
        send(h.router(), console("dialtone_session")).await.status,
        StatusCode::OK
    );
}

/// Signing in again ends the session the browser signed in over: its cookie
/// is replaced, and a copy of it must not outlive it.
#[tokio::test]
async fn signing_in_again_ends_the_session_signed_in_over() {
    let h = harness(live_after(0)).await;
    let old = sign_in_as(&h, "sam", Role::Operator).await;
    let form = get(h.router(), "/login").await;
    let login_csrf = set_cookie_value(&form, "dialtone_login_csrf").unwrap();
    let again = Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "cookie",
            format!(
                "dialtone_login_csrf={login_csrf}; dialtone_session={}",
                old.cookie
            ),
        )
        .body(Body::from(format!(
            "csrf={login_csrf}&username=sam&password=correct+horse+battery+staple"
        )))
        .unwrap();
    let r = send(h.router(), again).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let new = set_cookie_value(&r, "dialtone_session").unwrap();
    let console = |session: &str| {
        let req = Request::get("/console")
            .header("cookie", format!("dialtone_session={session}"))
            .body(Body::empty())
            .unwrap();
        send(h.router(), req)
    };
    assert_eq!(console(&new).await.status, StatusCode::OK);
    assert_ne!(console(&old.cookie).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_session_acts_with_its_csrf_token_and_signs_out() {
    let h = harness(live_with_incident()).await;
    let s = sign_in_as(&h, "sam", Role::Operator).await;
    let cookie = format!("dialtone_session={}", s.cookie);
    let ack = |csrf: &str| {
        Request::post("/api/v1/incidents/1/acknowledge")
            .header("cookie", &cookie)
            .header("x-csrf-token", csrf)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        send(h.router(), ack("0")).await.status,
        StatusCode::FORBIDDEN
    );
    let r = send(h.router(), ack(&s.csrf)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["incident"]["operator"]["acknowledged_by"], "sam");

    // The console's own form: the CSRF token travels in the form body.
    let form = send(
        h.router(),
        Request::post("/console/incidents/1")
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "csrf={}&action=update&status=identified&body=Engineers+are+restoring+service.",
                s.csrf
            )))
            .unwrap(),
    )
    .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER, "{}", form.body);
    assert!(
        get(h.router(), "/")
            .await
            .body
            .contains("Engineers are restoring service.")
    );
    // A form that fails for what was in it comes back with the reason and
    // the text, ready to send again.
    let failed = send(
        h.router(),
        Request::post("/console/incidents/1")
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "csrf={}&action=update&status=fixed&body=Fix+%3Cdeployed%3E+on+all+sites.",
                s.csrf
            )))
            .unwrap(),
    )
    .await;
    assert_eq!(failed.status, StatusCode::BAD_REQUEST, "{}", failed.body);
    for part in [
        // What the console's dropdown offers: it has no `postmortem`.
        "unknown status `fixed`: use one of investigating, identified, monitoring, resolved",
        "action=\"/console/incidents/1\"",
        ">Fix &lt;deployed&gt; on all sites.</textarea>",
        "<select name=\"status\" aria-label=\"status\" required>",
        "Send again",
    ] {
        assert!(failed.body.contains(part), "{part}: {}", failed.body);
    }
    assert!(
        failed.body.contains(&s.csrf),
        "the form carries the session's token"
    );
    assert!(!failed.body.contains("postmortem"), "{}", failed.body);

    // Reloading the sign-out address does not sign out: only the button does.
    let reloaded = send(
        h.router(),
        Request::get("/logout")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reloaded.status, StatusCode::SEE_OTHER, "{}", reloaded.body);
    assert_eq!(reloaded.headers["location"], "/console");
    assert!(!reloaded.headers.contains_key("set-cookie"));

    let out = send(
        h.router(),
        Request::post("/logout")
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={}", s.csrf)))
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = send(
        h.router(),
        Request::get("/api/v1/me")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "the session is gone"
    );
}

/// Declare, acknowledge, assign, update, change severity, merge and resolve
/// over the API: each reaches the public page at once and leaves an audit row.
#[tokio::test]
async fn operator_actions_reach_the_public_page_and_the_audit_log() {
    let h = harness(live_with_incident()).await;
    let op = h.token("otto", Role::Operator).await;
    let admin = h.token("ada", Role::Admin).await;
    let post = |path: &str, body: Option<serde_json::Value>| authed("POST", path, &op, body);

    let declared = send(
        h.router(),
        post(
            "/api/v1/incidents",
            Some(json!({"title": "Top-ups failing", "body": "Top-ups fail; calls work.", "severity": "major"})),
        ),
    )
    .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);
    let id = declared.json()["incident"]["id"].as_u64().unwrap();
    assert_eq!(id, 2, "numbered after the engine's incident");
    let page = get(h.router(), "/api/v2/summary.json").await.json();
    let public = page["incidents"].as_array().unwrap();
    assert!(
        public
            .iter()
            .any(|i| i["name"] == "Top-ups failing" && i["impact"] == "major")
    );
    assert!(
        get(h.router(), "/history.atom")
            .await
            .body
            .contains("Top-ups failing")
    );

    for (path, body) in [
        (format!("/api/v1/incidents/{id}/acknowledge"), None),
        (
            format!("/api/v1/incidents/{id}/assign"),
            Some(json!({"assignee": "billing-team"})),
        ),
        (
            format!("/api/v1/incidents/{id}/updates"),
            Some(json!({"status": "identified", "body": "A certificate expired; renewing it."})),
        ),
        (
            format!("/api/v1/incidents/{id}/severity"),
            Some(json!({"severity": "critical"})),
        ),
    ] {
        let r = send(h.router(), post(&path, body)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    let r = send(
        h.router(),
        authed("GET", &format!("/api/v1/incidents/{id}"), &op, None),
    )
    .await;
    let inc = &r.json()["incident"];
    assert_eq!(inc["status"], "identified");
    assert_eq!(inc["severity"], "critical");
    assert_eq!(inc["operator"]["assignee"], "billing-team");
    let status = get(h.router(), "/api/v2/status.json").await.json();
    assert_eq!(status["status"]["indicator"], "critical");
    assert!(
        get(h.router(), "/")
            .await
            .body
            .contains("A certificate expired; renewing it.")
    );

    // Refusals say what was wrong.
    let twice = send(
        h.router(),
        post(&format!("/api/v1/incidents/{id}/acknowledge"), None),
    )
    .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(
        twice.json()["error"]
            .as_str()
            .unwrap()
            .contains("already acknowledged by otto")
    );
    let bad = send(
        h.router(),
        post(
            &format!("/api/v1/incidents/{id}/updates"),
            Some(json!({"status": "fixed", "body": "x"})),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body
            .contains("use one of investigating, identified, monitoring, resolved, postmortem"),
        "the API may move an incident to postmortem: {}",
        bad.body
    );
    let junk = send(
        h.router(),
        post("/api/v1/incidents", Some(json!({"title": "x"}))),
    )
    .await;
    assert_eq!(junk.status, StatusCode::BAD_REQUEST);
    assert!(junk.body.contains("missing field `body`"));
    let none = send(h.router(), post("/api/v1/incidents/99/acknowledge", None)).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);

    // Merge the engine's incident into the declared one, then resolve it.
    let merged = send(
        h.router(),
        post(
            &format!("/api/v1/incidents/{id}/merge"),
            Some(json!({"from": 1})),
        ),
    )
    .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    let answer = merged.json();
    assert_eq!(
        (
            answer["entry"]["kind"].clone(),
            answer["incident"]["id"].clone()
        ),
        (json!("merged"), json!(id))
    );
    let list = send(h.router(), authed("GET", "/api/v1/incidents", &op, None))
        .await
        .json();
    let first = list["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == 1)
        .unwrap()
        .clone();
    assert_eq!(
        (first["status"].clone(), first["merged_into"].clone()),
        (json!("resolved"), json!(id))
    );
    // The newest first, as many as asked for, within bounds.
    let listed = |limit: &str| {
        let path = format!("/api/v1/incidents?limit={limit}");
        send(h.router(), authed("GET", &path, &op, None))
    };
    let newest = listed("1").await;
    assert_eq!(newest.status, StatusCode::OK, "{}", newest.body);
    let newest = newest.json();
    assert_eq!(newest["incidents"].as_array().map(Vec::len), Some(1));
    assert_eq!(newest["incidents"][0]["id"], json!(id));
    for out_of_range in ["0", "1001", "many"] {
        let refused = listed(out_of_range).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{out_of_range}");
    }
    let resolved = send(
        h.router(),
        post(
            &format!("/api/v1/incidents/{id}/resolve"),
            Some(json!({"body": "Top-ups work again."})),
        ),
    )
    .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    let unresolved = get(h.router(), "/api/v2/incidents/unresolved.json")
        .await
        .json();
    assert_eq!(unresolved["incidents"].as_array().unwrap().len(), 0);
    let after = send(
        h.router(),
        post(
            &format!("/api/v1/incidents/{id}/updates"),
            Some(json!({"status": "investigating", "body": "x"})),
        ),
    )
    .await;
    assert_eq!(
        after.status,
        StatusCode::CONFLICT,
        "a resolved incident does not reopen"
    );

    // Saved, so a restart keeps the operators' work.
    let stored = dialtone_store::Store::recent_incidents(&h.store, 10)
        .await
        .unwrap();
    let saved = stored.iter().find(|i| i.id == id).unwrap();
    assert_eq!(saved.operator.acknowledged_by.as_deref(), Some("otto"));

    let audit = send(h.router(), authed("GET", "/api/v1/audit", &admin, None))
        .await
        .json();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "resolve",
            "merge",
            "set_severity",
            "update",
            "assign",
            "acknowledge",
            "declare"
        ],
        "one row per successful action, newest first"
    );
    assert_eq!(audit["entries"][0]["actor"], "otto");
    assert_eq!(audit["entries"][0]["target"], format!("incident {id}"));
    let declared = &audit["entries"][6];
    assert_eq!(
        declared["target"],
        format!("incident {id}"),
        "the declare row names the incident it created: {declared}"
    );
}

#[tokio::test]
async fn a_one_time_link_signs_in_once() {
    let h = harness(live_after(0)).await;
    let user = h
        .store
        .add_user("demo-admin", Role::Admin, None, 0)
        .await
        .unwrap();
    let code = dialtone_auth::random_secret().unwrap();
    h.store
        .add_login_link(
            &dialtone_auth::sha256_hex(code.as_bytes()),
            user.id,
            i64::MAX,
        )
        .await
        .unwrap();
    // Opening the link (as a chat's preview would) uses nothing up.
    let page = get(h.router(), &format!("/login/link?code={code}")).await;
    let again = get(h.router(), &format!("/login/link?code={code}")).await;
    for page in [&page, &again] {
        assert_eq!(page.status, StatusCode::OK);
        assert!(set_cookie_value(page, "dialtone_session").is_none());
        assert!(page.body.contains(&code), "the button carries the code");
    }
    let csrf = set_cookie_value(&page, "dialtone_login_csrf").unwrap();
    let press = |csrf_field: String| {
        Request::builder()
            .method("POST")
            .uri("/login/link")
            .header("cookie", format!("dialtone_login_csrf={csrf}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={csrf_field}&code={code}")))
            .unwrap()
    };
    // Another site's form cannot carry the pair.
    let forged = send(h.router(), press("forged".into())).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let first = send(h.router(), press(csrf.clone())).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert!(set_cookie_value(&first, "dialtone_session").is_some());
    let used = send(h.router(), press(csrf.clone())).await;
    assert_eq!(used.status, StatusCode::UNAUTHORIZED);
    assert!(used.body.contains("invalid, used or expired"));
}

#[tokio::test]
async fn a_mail_link_cut_short_gets_a_page_not_a_parser_error() {
    let h = harness(live_after(0)).await;
    for path in ["/unsubscribe", "/subscribe/confirm"] {
        let r = get(h.router(), path).await;
        assert_page(&r, StatusCode::NOT_FOUND, &["Link not valid"]);
    }
}

/// Three requests per client, then (for the length of a test) no more.
fn three_requests_each() -> ServerConfig {
    ServerConfig {
        public_rate: Rate {
            per_second: 0.001,
            burst: 3.0,
        },
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn public_pages_are_rate_limited_per_client() {
    let config = three_requests_each();
    let h = harness_with(live_after(0), config).await;
    for _ in 0..3 {
        assert_eq!(get(h.router(), "/").await.status, StatusCode::OK);
    }
    let limited = get(h.router(), "/api/v2/status.json").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn guessing_tokens_is_rate_limited_apart_from_the_public_pages() {
    let config = three_requests_each();
    let h = harness_with(live_after(0), config).await;
    let guess = |n: u32| format!("dt_{n:016x}_{}", "0".repeat(64));
    let mut statuses = Vec::new();
    for n in 0..4 {
        let request = authed("GET", "/api/v1/incidents", &guess(n), None);
        statuses.push(send(h.router(), request).await.status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // The public's budget is its own: the status page still answers.
    assert_eq!(get(h.router(), "/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let h = harness(live_after(0)).await;
    let op = h.token("otto", Role::Operator).await;
    let big = "x".repeat(dialtone_server::MAX_BODY_BYTES + 1);
    let r = send(
        h.router(),
        authed(
            "POST",
            "/api/v1/incidents",
            &op,
            Some(json!({"title": "t", "body": big})),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// Change records arrive over the API and are checked against the topology.
#[tokio::test]
async fn changes_are_recorded_for_elements_that_exist() {
    // Before its first minute the pipeline has no time to stamp a change
    // with, nor to tell "within the year" from for a watch: asked to send
    // it again, not stored at time 0.
    let early = harness(live_after(0)).await;
    let otto = early.token("otto", Role::Operator).await;
    let watch = json!({"name": "Board call", "element": "bridge-conference-1", "start": 1_767_700_000, "end": 1_767_703_600, "fallback": "bridge-standby"});
    for (path, body, again) in [
        (
            "/api/v1/changes",
            json!({"element": "x", "kind": "deploy", "description": "d"}),
            "send the change again shortly",
        ),
        ("/api/v1/watches", watch, "send the watch again shortly"),
    ] {
        let r = send(early.router(), authed("POST", path, &otto, Some(body))).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
        assert!(r.body.contains(again), "{}", r.body);
    }
    let declared = send(
        early.router(),
        authed(
            "POST",
            "/api/v1/incidents",
            &otto,
            Some(json!({"title": "t", "body": "b", "severity": "major"})),
        ),
    )
    .await;
    assert_eq!(
        declared.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        declared.body
    );

    let h = harness(live_after(1)).await;
    let otto = h.token("otto", Role::Operator).await;
    let element = h
        .state
        .live
        .lock()
        .await
        .run()
        .engine()
        .topology()
        .elements()[0]
        .id
        .clone();
    let post = |body: serde_json::Value| authed("POST", "/api/v1/changes", &otto, Some(body));
    let ok = send(
        h.router(),
        post(serde_json::json!({"element": element, "kind": "deploy", "description": "AMF 22.4.2 wave 1"})),
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    let unknown = send(
        h.router(),
        post(serde_json::json!({"element": "no-such-box", "kind": "config", "description": "x"})),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("no-such-box"), "{}", unknown.body);
    let bad_kind = send(
        h.router(),
        post(serde_json::json!({"element": element, "kind": "reboot", "description": "x"})),
    )
    .await;
    assert_eq!(bad_kind.status, StatusCode::BAD_REQUEST);
    assert!(bad_kind.body.contains("deploy, config, hardware or other"));
    // Kept for a restarted run: the one taken, none of the refused.
    let kept = h.store.changes_since(0).await.unwrap();
    let described: Vec<&str> = kept.iter().map(|c| c.description.as_str()).collect();
    assert_eq!(described, ["AMF 22.4.2 wave 1"]);
}

/// Event watches are scheduled over the API on elements that exist.
#[tokio::test]
async fn event_watches_are_scheduled_and_listed() {
    let bridge = "bridge-conference-1";
    let h = harness(live_after(1)).await;
    let otto = h.token("otto", Role::Operator).await;
    let ok = send(
        h.router(),
        authed(
            "POST",
            "/api/v1/watches",
            &otto,
            Some(json!({"name": "Board call", "element": bridge, "start": 1_767_700_000, "end": 1_767_703_600, "fallback": "bridge-standby"})),
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    let backwards = send(
        h.router(),
        authed(
            "POST",
            "/api/v1/watches",
            &otto,
            Some(json!({"name": "x", "element": bridge, "start": 10, "end": 5})),
        ),
    )
    .await;
    assert_eq!(backwards.status, StatusCode::BAD_REQUEST);
    let long = "x".repeat(201);
    let rambling = send(
        h.router(),
        authed(
            "POST",
            "/api/v1/watches",
            &otto,
            Some(json!({"name": "x", "element": bridge, "start": 1_767_700_000, "end": 1_767_703_600, "fallback": long})),
        ),
    )
    .await;
    assert_eq!(
        rambling.status,
        StatusCode::BAD_REQUEST,
        "{}",
        rambling.body
    );
    assert!(rambling.body.contains("fallback"), "{}", rambling.body);
    let listed = send(h.router(), authed("GET", "/api/v1/watches", &otto, None))
        .await
        .json();
    assert_eq!(listed["watches"][0]["name"], "Board call");
    let kept = h.store.watches_ending_after(0).await.unwrap();
    let names: Vec<&str> = kept.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["Board call"]);
}

/// Anyone may subscribe a webhook, so one aimed at the server's own network
/// (here the cloud metadata address and loopback) is refused with the reason;
/// a public URL is taken, stored as parsed.
#[tokio::test]
async fn webhook_subscriptions_to_private_addresses_are_refused() {
    let h = harness(live_after(0)).await;
    let subscribe = |url: &str| {
        Request::builder()
            .method("POST")
            .uri("/subscribe")
            .header("content-type", "application/json")
            .body(Body::from(json!({ "webhook": url }).to_string()))
            .expect("request")
    };
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:5432/",
        "http://localhost/hook",
    ] {
        let refused = send(h.router(), subscribe(url)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{url}");
        assert!(
            refused.body.contains("non-public address"),
            "{}",
            refused.body
        );
    }
    let taken = send(h.router(), subscribe("https://hooks.example.net/status")).await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
}

/// An email subscription answers alike whether or not the address is
/// already subscribed or asked for: a stranger who subscribes an address
/// first neither blocks its owner (who gets a link; a request made after the
/// store's cool-down replaces the stranger's, a store test shows) nor learns
/// anything, and cannot fill the inbox. (Nothing is delivered here: the
/// outbox shows what would be.)
/// Email on, through a relay these tests never reach: they read the outbox.
fn mailing() -> NotifyConfig {
    NotifyConfig {
        base_url: "http://status.example.net".into(),
        smtp: Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: 25,
            security: SmtpSecurity::None,
            from: "status@example.net".into(),
            username: None,
            password: None,
            timeout_secs: 1,
        }),
        ..NotifyConfig::default()
    }
}

/// Makes the harness's database refuse every new row of `table`, as a full
/// disk would, until the trigger `full` is dropped on the connection returned.
async fn refuse_inserts(h: &Harness, table: &str) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    let file = h.dir.path().join(dialtone_store::SQLITE_FILE);
    let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let trigger = format!(
        "CREATE TRIGGER full BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'full'); END"
    );
    sqlx::query(&trigger).execute(&mut db).await.unwrap();
    db
}

/// A sign-in refused because its audit row cannot be written leaves whoever
/// was signed in on the browser signed in, and no session behind.
#[tokio::test]
async fn a_sign_in_that_cannot_be_audited_keeps_the_session_before_it() {
    let h = harness(live_after(0)).await;
    let ada = sign_in_as(&h, "ada", Role::Operator).await;
    let mut db = refuse_inserts(&h, "audit_log").await;
    let count = "SELECT COUNT(*) FROM sessions";
    let sessions: i64 = sqlx::query_scalar(count).fetch_one(&mut db).await.unwrap();
    assert_eq!(sessions, 1);
    let form = get(h.router(), "/login").await;
    let login_csrf = set_cookie_value(&form, "dialtone_login_csrf").unwrap();
    let cookies = format!(
        "dialtone_login_csrf={login_csrf}; dialtone_session={}",
        ada.cookie
    );
    let again = send(
        h.router(),
        login_post(&cookies, &login_csrf, "ada", "correct horse battery staple"),
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        again.body
    );
    assert!(set_cookie_value(&again, "dialtone_session").is_none());
    let console = send(
        h.router(),
        Request::get("/console")
            .header("cookie", format!("dialtone_session={}", ada.cookie))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(console.status, StatusCode::OK, "still signed in");
    let sessions: i64 = sqlx::query_scalar(count).fetch_one(&mut db).await.unwrap();
    assert_eq!(sessions, 1, "the refused sign-in's session is gone");
}

#[tokio::test]
async fn a_sign_up_whose_confirmation_cannot_be_queued_is_undone() {
    let h = harness_notifying(live_after(0), ServerConfig::default(), mailing()).await;
    // The outbox refuses every row, as a full disk would refuse the second
    // of the two writes.
    let mut db = refuse_inserts(&h, "outbox").await;
    let subscribe = || {
        let body = json!({ "email": "a@example.net" }).to_string();
        let req = Request::post("/subscribe")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .expect("request");
        send(h.router(), req)
    };
    let refused = subscribe().await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert!(h.subscribers().await.is_empty());
    sqlx::query("DROP TRIGGER full")
        .execute(&mut db)
        .await
        .unwrap();
    let retried = subscribe().await;
    assert_eq!(retried.status, StatusCode::ACCEPTED, "{}", retried.body);
    assert_eq!(h.state.notify_store.outbox(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn email_subscriptions_reveal_nobody_and_block_nobody() {
    let h = harness_notifying(live_after(0), ServerConfig::default(), mailing()).await;
    // Each request from its own client, clear of the per-client budget.
    let client = std::cell::Cell::new(0u8);
    let subscribe = |json: bool| {
        client.set(client.get() + 1);
        let req = if json {
            Request::post("/subscribe")
                .header("content-type", "application/json")
                .body(Body::from(json!({ "email": "a@example.net" }).to_string()))
        } else {
            Request::post("/subscribe")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("email=a%40example.net"))
        };
        send(h.router(), from_client(req.expect("request"), client.get()))
    };
    let links = || async {
        let outbox = h.state.notify_store.outbox(10).await.expect("outbox");
        let links: Vec<String> = (outbox.iter())
            .filter_map(|m| {
                let body = &m.item.body;
                let at = body.find("/subscribe/confirm?token=")?;
                Some(body[at..].split_whitespace().next()?.to_string())
            })
            .collect();
        links
    };
    let (stranger, stranger_form) = (subscribe(true).await, subscribe(false).await);
    assert_eq!(stranger.status, StatusCode::ACCEPTED, "{}", stranger.body);
    let (owner, owner_form) = (subscribe(true).await, subscribe(false).await);
    assert_eq!(
        (owner.status, &owner.body, &owner_form.body),
        (stranger.status, &stranger.body, &stranger_form.body)
    );
    let [link] = <[String; 1]>::try_from(links().await).expect("one link mailed, not four");
    // A mail scanner fetching the link confirms nothing: a stranger's
    // sign-up of this address mails no notice until its owner presses.
    assert_page(
        &get(h.router(), &link).await,
        StatusCode::OK,
        &["Send me notifications"],
    );
    let confirmed = || async {
        let subs = h.subscribers().await;
        subs.iter().map(|s| s.confirmed).collect::<Vec<_>>()
    };
    assert_eq!(confirmed().await, [false]);
    assert_eq!(
        press_link_button(h.router(), &link).await.status,
        StatusCode::OK
    );
    assert_eq!(confirmed().await, [true]);
    // Confirmed: asking again gets the same answers and mails nothing.
    let (again, again_form) = (subscribe(true).await, subscribe(false).await);
    assert_eq!(
        (again.status, &again.body, &again_form.body),
        (stranger.status, &stranger.body, &stranger_form.body)
    );
    assert_eq!(links().await.len(), 1);
}

/// A malformed path or body gets the status that says what was wrong: as the
/// JSON error on the API, on a page for a browser's form.
#[tokio::test]
async fn malformed_requests_get_the_json_error() {
    let h = harness(live_after(0)).await;
    let viewer = h.token("vera", Role::Viewer).await;
    let bad_id = send(
        h.router(),
        authed("GET", "/api/v1/incidents/abc", &viewer, None),
    )
    .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert!(bad_id.json()["error"].is_string(), "{}", bad_id.body);
    // Larger than the limit, with no Content-Length to refuse it by.
    for path in ["/report", "/subscribe", "/login"] {
        let big = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(vec![b'a'; 70_000]))
            .expect("request");
        let r = send(h.router(), big).await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            r.body
        );
        assert!(
            r.body.contains("the body is larger than") && r.body.contains("<form"),
            "{path}: {}",
            r.body
        );
        // Its length declared: refused too.
        let declared = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-length", "70000")
            .body(Body::from(vec![b'a'; 70_000]))
            .expect("request");
        let r = send(h.router(), declared).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
}

/// Each subscription request mails a stranger or adds a webhook every
/// incident is posted to: one client address gets a few, then waits.
#[tokio::test]
async fn subscription_requests_are_rate_limited_per_client() {
    let h = harness(live_after(0)).await;
    let statuses: Vec<StatusCode> = subscribe_from_one_address(&h, 7).await;
    assert_eq!(statuses[..5], [StatusCode::CREATED; 5], "{statuses:?}");
    assert_eq!(statuses[5..], [StatusCode::TOO_MANY_REQUESTS; 2]);
    // A browser's form gets the form back, with when to try again.
    let form = Request::post("/subscribe")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("webhook=https%3A%2F%2Fhooks.example.net%2Fform"))
        .expect("request");
    let r = send(h.router(), from_client(form, 9)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"), "{:?}", r.headers);
    assert!(
        r.body.contains("value=\"https://hooks.example.net/form\""),
        "{}",
        r.body
    );
    // Another client still has its budget.
    let other = Request::post("/subscribe")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({ "webhook": "https://hooks.example.net/other" }).to_string(),
        ))
        .expect("request");
    assert_eq!(
        send(h.router(), from_client(other, 10)).await.status,
        StatusCode::CREATED
    );
}

/// `req` as if from the client at 203.0.113.`host`.
fn from_client(mut req: Request<Body>, host: u8) -> Request<Body> {
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [203, 0, 113, host],
            40_000,
        ))));
    req
}

async fn subscribe_from_one_address(h: &Harness, n: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for i in 0..n {
        let req = Request::post("/subscribe")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({ "webhook": format!("https://hooks.example.net/{i}") }).to_string(),
            ))
            .expect("request");
        statuses.push(send(h.router(), from_client(req, 9)).await.status);
    }
    statuses
}

/// A browser's form post that fails comes back as the form, filled in as it
/// was sent, with what was wrong: nothing typed is lost.
#[tokio::test]
async fn a_failed_form_post_keeps_what_was_typed() {
    let h = harness(live_after(0)).await;
    let form = |path: &str, body: &str| {
        Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .expect("request")
    };
    let r = send(
        h.router(),
        form("/subscribe", "email=foo%40&service_voice=on&webhook="),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.starts_with("<!doctype html>"), "{}", r.body);
    assert!(
        r.body.contains("`foo@` is not an email address"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"foo@\""), "{}", r.body);
    assert!(
        r.body.contains("name=\"service_voice\" checked"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("name=\"service_data\" checked"),
        "{}",
        r.body
    );

    // (This server sends no email, so the report form asks for no address.)
    let area = live_after(0).regions()[0].clone();
    let r = send(
        h.router(),
        form("/report", &format!("problem=no_signal&area={area}x")),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("unknown area"), "{}", r.body);
    assert!(
        r.body.contains("value=\"no_signal\" selected"),
        "{}",
        r.body
    );
}

/// An incident closed before a restart is still the public's: a postmortem
/// posted on it afterwards reaches its subscribers, as it would have before.
#[tokio::test]
async fn an_update_on_an_incident_closed_before_a_restart_reaches_subscribers() {
    let before = harness(live_after(1)).await;
    let op = before.token("otto", Role::Operator).await;
    let id = declare(&before, &op, "Fibre cut near Leeds").await;
    let resolved = send(
        before.router(),
        authed(
            "POST",
            &format!("/api/v1/incidents/{id}/resolve"),
            &op,
            Some(json!({"body": "Repaired."})),
        ),
    )
    .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);

    let earlier = dialtone_store::Store::recent_incidents(&before.store, 50)
        .await
        .unwrap();
    let h = harness(common::resumed_after(earlier, 5)).await;
    let hook = Request::post("/subscribe")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"webhook": "https://hooks.example.net/status"}).to_string(),
        ))
        .unwrap();
    let subscribed = send(h.router(), hook).await;
    assert_eq!(
        subscribed.status,
        StatusCode::CREATED,
        "{}",
        subscribed.body
    );
    let op = h.token("otto", Role::Operator).await;
    let postmortem = send(
        h.router(),
        authed(
            "POST",
            &format!("/api/v1/incidents/{id}/updates"),
            &op,
            Some(json!({"status": "postmortem", "body": "A contractor cut the fibre."})),
        ),
    )
    .await;
    assert_eq!(postmortem.status, StatusCode::OK, "{}", postmortem.body);
    let queued = h.state.notify_store.outbox(10).await.unwrap();
    let notices: Vec<&str> = (queued.iter())
        .map(|m| m.item.key.as_str())
        .filter(|k| k.starts_with(&format!("notice/{id}/")))
        .collect();
    assert_eq!(notices.len(), 1, "{queued:?}");
}

/// A restart loses no open incident: one an operator declared comes back
/// listed, on the public page and actionable (merged into one of the new
/// run's here), though no run advances it.
#[tokio::test]
async fn an_incident_left_open_comes_back_after_a_restart() {
    let before = harness(live_after(1)).await;
    let op = before.token("otto", Role::Operator).await;
    let id = declare(&before, &op, "Fibre cut near Leeds").await;

    let earlier = dialtone_store::Store::recent_incidents(&before.store, 50)
        .await
        .unwrap();
    let h = harness(common::resumed_after(earlier, 5)).await;
    let op = h.token("otto", Role::Operator).await;
    let got = send(
        h.router(),
        authed("GET", &format!("/api/v1/incidents/{id}"), &op, None),
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    let unresolved = get(h.router(), "/api/v2/incidents/unresolved.json")
        .await
        .json();
    let listed = unresolved["incidents"].as_array().unwrap().iter();
    assert!(
        listed
            .map(|i| &i["id"])
            .any(|i| *i == json!(id.to_string())),
        "{unresolved}"
    );
    // It merges like any other: into an incident of the new run.
    let declared = send(
        h.router(),
        authed(
            "POST",
            "/api/v1/incidents",
            &op,
            Some(json!({"title": "Calls failing in Leeds", "body": "Investigating."})),
        ),
    )
    .await;
    let new_id = declared.json()["incident"]["id"].as_u64().unwrap();
    assert!(new_id > id, "numbered after what it carried over");
    let merged = send(
        h.router(),
        authed(
            "POST",
            &format!("/api/v1/incidents/{new_id}/merge"),
            &op,
            Some(json!({"from": id})),
        ),
    )
    .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    let resolved = send(
        h.router(),
        authed(
            "POST",
            &format!("/api/v1/incidents/{new_id}/resolve"),
            &op,
            Some(json!({"body": "Repaired."})),
        ),
    )
    .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
}

/// An incident older than the pipeline keeps in memory is still served
/// from the store.
#[tokio::test]
async fn an_incident_only_in_the_store_is_still_served() {
    let h = harness(live_after(0)).await;
    let old = dialtone_engine::Incident::open(77, 1_700_000_000);
    dialtone_store::Store::save_incident(&h.store, &old)
        .await
        .unwrap();
    let viewer = h.token("vic", Role::Viewer).await;
    let got = send(
        h.router(),
        authed("GET", "/api/v1/incidents/77", &viewer, None),
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.json()["incident"]["id"], 77);
    let missing = send(
        h.router(),
        authed("GET", "/api/v1/incidents/78", &viewer, None),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// A write that was done is answered as done even when its audit row cannot
/// be written (which the server logs): a client that retries on 5xx would
/// otherwise declare the incident twice.
#[tokio::test]
async fn a_declared_incident_whose_audit_row_fails_is_answered_once_as_created() {
    let h = harness(live_after(1)).await;
    let otto = h.token("otto", Role::Operator).await;
    let _db = refuse_inserts(&h, "audit_log").await;
    let id = declare(&h, &otto, "Calls failing in the north").await;
    let (incidents, element) = {
        let live = h.state.live.lock().await;
        (live.run().engine().incidents().to_vec(), first_cell(&live))
    };
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].id, id);
    let change = json!({"element": element, "kind": "config", "description": "push"});
    let r = send(
        h.router(),
        authed("POST", "/api/v1/changes", &otto, Some(change)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}
