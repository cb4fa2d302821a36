//! A server answering with a redirect: QStash never redirects, so the
//! client follows none (the other side receives nothing) and the call fails
//! naming the status and where it pointed. A caller's `reqwest::Client`
//! that follows redirects itself still ends in that error, not in the
//! other side's answer.

use qstash::messages::{Destination, Message};
use qstash::{AuthMode, Error};

use crate::{Action, DESTINATION, FakeClock, FaultServer, TOKEN, list_queues, published};

const STATUSES: [u16; 5] = [301, 302, 303, 307, 308];

/// The server a redirect points to, and the two ways to name it: by
/// another port on the same host, and by another host name.
async fn elsewhere() -> (FaultServer, [String; 2]) {
    let other = FaultServer::always(published("msg_elsewhere")).await;
    let port = other.url.rsplit(':').next().expect("a port").to_string();
    let locations = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    (other, locations)
}

fn publish_with_secrets() -> Message {
    Message::new(Destination::url(DESTINATION))
        .text("the body")
        .header("Authorization", "Bearer destination-secret")
}

fn redirect(status: u16, location: &str) -> Action {
    Action::status(status).with_header(
        "Location",
        &format!("http://{location}/v2/publish/{DESTINATION}"),
    )
}

#[tokio::test]
async fn no_redirect_is_followed_and_the_error_names_status_and_host() {
    let (other, locations) = elsewhere().await;
    let clock = FakeClock::new();
    for mode in [AuthMode::Bearer, AuthMode::QueryParameter] {
        for status in STATUSES {
            for location in &locations {
                let server = FaultServer::always(redirect(status, location)).await;
                let client = server.builder(&clock).auth_mode(mode).build().unwrap();
                let error = client
                    .messages()
                    .publish(publish_with_secrets())
                    .send()
                    .await
                    .expect_err("a redirect is an error");
                match &error {
                    Error::Redirected {
                        status: Some(got),
                        location: Some(host),
                    } => {
                        assert_eq!((got.as_u16(), host), (status, location));
                    }
                    other => panic!("{status} to {location}: {other:?}"),
                }
                let text = error.to_string();
                assert!(text.contains(&status.to_string()), "{text}");
                assert!(text.contains(location.as_str()), "{text}");
                assert!(!text.contains(TOKEN), "{text}");
                assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
                // Sent once, not retried: a redirect does not go away.
                assert_eq!(server.received().len(), 1, "{status} to {location}");

                // A read is not followed either.
                let error = list_queues(&client).await.expect_err("a redirect");
                assert!(matches!(error, Error::Redirected { .. }), "{error:?}");
            }
        }
    }
    assert_eq!(other.connections(), 0, "the other side was never contacted");
    assert!(other.received().is_empty());
}

#[tokio::test]
async fn a_redirect_without_a_usable_location_names_none() {
    let clock = FakeClock::new();
    for action in [
        Action::status(302),
        Action::status(307).with_header("Location", "http://[not a host/"),
    ] {
        let server = FaultServer::always(action).await;
        let error = list_queues(&server.client(&clock)).await.unwrap_err();
        assert!(
            matches!(error, Error::Redirected { location: None, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("no usable location"), "{error}");
    }
}

/// A relative `Location` points to the server itself, on another path.
#[tokio::test]
async fn a_relative_location_names_the_server_itself() {
    let server = FaultServer::always(Action::status(301).with_header("Location", "/login")).await;
    let clock = FakeClock::new();
    let error = list_queues(&server.client(&clock)).await.unwrap_err();
    let host = server.url.trim_start_matches("http://").to_string();
    assert!(
        matches!(&error, Error::Redirected { location: Some(l), .. } if *l == host),
        "{error:?}"
    );
}

/// The crate cannot stop a caller's client from following: reqwest's
/// default policy does, and the other side receives the request (without
/// `Authorization`, which reqwest drops across hosts). The call still fails
/// instead of reporting the other side's answer as QStash's.
#[tokio::test]
async fn a_callers_client_that_follows_still_fails_the_call() {
    qstash::install_crypto_provider();
    let (other, locations) = elsewhere().await;
    let clock = FakeClock::new();
    let mut expected = 0;
    for status in STATUSES {
        for location in &locations {
            let server = FaultServer::always(redirect(status, location)).await;
            let client = server
                .builder(&clock)
                .http_client(reqwest::Client::new())
                .build()
                .unwrap();
            let error = client
                .messages()
                .publish(publish_with_secrets())
                .send()
                .await
                .expect_err("followed, still an error");
            match &error {
                Error::Redirected {
                    status: None,
                    location: Some(host),
                } => assert_eq!(host, location),
                other => panic!("{status} to {location}: {other:?}"),
            }
            assert!(error.to_string().contains("Policy::none()"), "{error}");
            expected += 1;
            assert_eq!(other.received().len(), expected);
        }
    }
    for request in other.received() {
        assert_eq!(request.header("authorization"), None);
    }

    // With following turned off, the caller's client is as safe as the
    // builder's own.
    let server = FaultServer::always(redirect(307, &locations[0])).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client = server.builder(&clock).http_client(http).build().unwrap();
    let error = list_queues(&client).await.unwrap_err();
    assert!(
        matches!(&error, Error::Redirected { status: Some(s), .. } if s.as_u16() == 307),
        "{error:?}"
    );
    assert_eq!(other.received().len(), expected);
}
