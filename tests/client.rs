//! Building a client: environment and region resolution, base URLs, auth
//! modes, bad input, token redaction, timeouts and a caller's HTTP client.

use std::collections::HashMap;
use std::time::Duration;

use qstash::api::Error;
use qstash::{AuthMode, Client, ClientBuilder, ConfigError, Region};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "eyJVc2VySUQiOiJzZWNyZXQtdG9rZW4ifQ==";

fn from_vars(vars: &[(&str, &str)]) -> Result<ClientBuilder, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ClientBuilder::from_env_with(|name| vars.get(name).cloned())
}

fn base_url_from(vars: &[(&str, &str)]) -> String {
    from_vars(vars)
        .and_then(ClientBuilder::build)
        .unwrap_or_else(|e| panic!("{vars:?}: {e}"))
        .base_url()
        .to_string()
}

#[test]
fn env_without_region_uses_qstash_url_and_token() {
    assert_eq!(
        base_url_from(&[("QSTASH_TOKEN", TOKEN)]),
        "https://qstash.upstash.io"
    );
    assert_eq!(
        base_url_from(&[
            ("QSTASH_TOKEN", TOKEN),
            ("QSTASH_URL", "http://127.0.0.1:8080/")
        ]),
        "http://127.0.0.1:8080"
    );
}

#[test]
fn env_empty_values_count_as_unset() {
    assert_eq!(
        base_url_from(&[
            ("QSTASH_REGION", ""),
            ("QSTASH_URL", " "),
            ("QSTASH_TOKEN", TOKEN)
        ]),
        "https://qstash.upstash.io"
    );
    let missing = from_vars(&[("QSTASH_TOKEN", "")]).and_then(ClientBuilder::build);
    assert!(
        matches!(missing, Err(ConfigError::MissingToken)),
        "{missing:?}"
    );
}

#[test]
fn env_without_any_token_is_an_error() {
    let error = from_vars(&[
        ("QSTASH_REGION", "US_EAST_1"),
        ("EU_CENTRAL_1_QSTASH_TOKEN", TOKEN),
    ])
    .and_then(ClientBuilder::build)
    .expect_err("the EU token does not serve the US region");
    assert!(matches!(error, ConfigError::MissingToken));
    assert!(error.to_string().contains("QSTASH_TOKEN"));
}

#[tokio::test]
async fn env_regional_token_is_the_one_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/keys"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"current": "sig_a", "next": "sig_b"})),
        )
        .mount(&server)
        .await;
    let client = from_vars(&[
        ("QSTASH_REGION", "US_EAST_1"),
        ("US_EAST_1_QSTASH_URL", &server.uri()),
        ("US_EAST_1_QSTASH_TOKEN", "us-token"),
        ("QSTASH_TOKEN", "plain-token"),
    ])
    .and_then(ClientBuilder::build)
    .expect("client");
    client.api().get_signing_keys().send().await.expect("keys");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests[0].headers["authorization"], "Bearer us-token");
}

#[test]
fn region_names_parse_and_print() {
    for region in Region::ALL {
        assert_eq!(Region::from_name(region.env_name()).ok(), Some(region));
        assert_eq!(region.to_string(), region.env_name());
        assert_eq!(region.env_name().parse::<Region>().ok(), Some(region));
    }
    assert!(matches!(
        Region::from_name("MARS_1"),
        Err(ConfigError::UnknownRegion(_))
    ));
    assert_eq!(Region::default(), Region::EuCentral1);
}

#[test]
fn builder_region_and_base_url() {
    let build = |builder: ClientBuilder| builder.token(TOKEN).build().expect("client");
    assert_eq!(
        build(Client::builder()).base_url(),
        "https://qstash.upstash.io"
    );
    assert_eq!(
        build(Client::builder().region(Region::UsEast1)).base_url(),
        "https://qstash-us-east-1.upstash.io"
    );
    assert_eq!(
        build(Client::builder().base_url("http://127.0.0.1:8080/")).base_url(),
        "http://127.0.0.1:8080"
    );
    assert_eq!(
        build(Client::builder().base_url("https://proxy.example.com/qstash/")).base_url(),
        "https://proxy.example.com/qstash"
    );
    assert_eq!(
        build(Client::builder().base_url("https://proxy.example.com/v2api")).base_url(),
        "https://proxy.example.com/v2api"
    );
    // The later call wins.
    assert_eq!(
        build(
            Client::builder()
                .base_url("http://127.0.0.1:8080")
                .region(Region::UsEast1)
        )
        .base_url(),
        "https://qstash-us-east-1.upstash.io"
    );
}

fn base_url_error(base_url: &str) -> String {
    match Client::builder().token(TOKEN).base_url(base_url).build() {
        Err(error @ ConfigError::InvalidBaseUrl { .. }) => error.to_string(),
        other => panic!("{base_url}: expected InvalidBaseUrl, got {other:?}"),
    }
}

#[test]
fn base_url_with_a_pasted_api_path_is_refused_with_the_url_to_use() {
    let message = base_url_error("https://qstash.upstash.io/v2/publish/");
    assert!(
        message.contains("use `https://qstash.upstash.io`"),
        "{message}"
    );
    let message = base_url_error("http://127.0.0.1:8080/v2");
    assert!(message.contains("use `http://127.0.0.1:8080`"), "{message}");
    let message = base_url_error("https://proxy.example.com/v2api/v2/schedules");
    assert!(
        message.contains("use `https://proxy.example.com/v2api`"),
        "{message}"
    );
    assert!(message.contains("API path `/v2/schedules`"), "{message}");
}

#[test]
fn unusable_base_urls_are_refused() {
    for bad in [
        "not a url",
        "",
        "ftp://qstash.upstash.io",
        "https://qstash.upstash.io#x",
    ] {
        base_url_error(bad);
    }
}

#[test]
fn base_url_errors_do_not_echo_a_pasted_token_or_password() {
    let message = base_url_error(&format!("https://qstash.upstash.io/?qstash_token={TOKEN}"));
    assert!(!message.contains(TOKEN), "{message}");
    let message = base_url_error(&format!("https://user:{TOKEN}@qstash.upstash.io/v2"));
    assert!(!message.contains(TOKEN), "{message}");
}

#[test]
fn tokens_that_cannot_be_sent_are_refused_without_echoing_them() {
    let secret = "secret-part";
    for (token, position) in [
        (format!("{secret}\nInjected: yes"), secret.len()),
        (format!("{secret}\u{e9}"), secret.len()),
        (format!("{secret}\0"), secret.len()),
    ] {
        let error = Client::builder()
            .token(token)
            .build()
            .expect_err("invalid token");
        assert!(
            matches!(error, ConfigError::InvalidToken { position: p } if p == position),
            "{error:?}"
        );
        assert!(!error.to_string().contains(secret));
        assert!(!format!("{error:?}").contains(secret));
    }
    assert!(matches!(
        Client::builder().token("   ").build(),
        Err(ConfigError::MissingToken)
    ));
    assert!(matches!(
        Client::builder().build(),
        Err(ConfigError::MissingToken)
    ));
}

#[test]
fn connect_timeout_with_a_callers_http_client_is_refused() {
    qstash::install_crypto_provider();
    let error = Client::builder()
        .token(TOKEN)
        .http_client(reqwest::Client::new())
        .connect_timeout(Duration::from_secs(1))
        .build()
        .expect_err("cannot apply");
    assert!(matches!(error, ConfigError::ConnectTimeoutWithCustomClient));
}

#[test]
fn debug_output_never_shows_the_token() {
    for mode in [AuthMode::Bearer, AuthMode::QueryParameter] {
        let builder = Client::builder().token(TOKEN).auth_mode(mode);
        assert!(!format!("{builder:?}").contains(TOKEN));
        let client = builder.build().expect("client");
        let debug = format!("{client:?}");
        assert!(!debug.contains(TOKEN), "{debug}");
        assert!(debug.contains("REDACTED"), "{debug}");
        assert_eq!(client.config().auth_mode(), mode);
    }
}

async fn keys_server(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/keys"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

fn assert_redacted(text: &str) {
    assert!(!text.contains(TOKEN), "token leaked: {text}");
    assert!(
        text.contains("qstash_token=REDACTED"),
        "no redacted URL in: {text}"
    );
}

#[tokio::test]
async fn query_token_is_redacted_from_unexpected_responses() {
    let server = keys_server(500).await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(server.uri())
        .auth_mode(AuthMode::QueryParameter)
        .build()
        .expect("client");
    let error = client
        .api()
        .get_signing_keys()
        .send()
        .await
        .expect_err("500");
    assert!(matches!(&error, Error::UnexpectedResponse(r) if r.status() == 500));
    assert_redacted(&format!("{error:?}"));
    assert_redacted(&error.to_string());

    // The token did ride on the request.
    let requests = server.received_requests().await.expect("recorded");
    let query = requests[0].url.query().unwrap_or_default().to_string();
    assert_eq!(query, format!("qstash_token={}", TOKEN.replace('=', "%3D")));
    assert!(!requests[0].headers.contains_key("authorization"));
}

#[tokio::test]
async fn query_token_is_redacted_from_transport_errors() {
    // Bind and drop a listener: nothing accepts on that port afterwards.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .and_then(|l| l.local_addr())
        .expect("port");
    let client = Client::builder()
        .token(TOKEN)
        .base_url(format!("http://{closed}"))
        .auth_mode(AuthMode::QueryParameter)
        .build()
        .expect("client");
    let error = client
        .api()
        .get_signing_keys()
        .send()
        .await
        .expect_err("refused");
    assert!(matches!(error, Error::CommunicationError(_)), "{error:?}");
    assert_redacted(&format!("{error:?}"));
    assert_redacted(&error.to_string());
}

#[tokio::test]
async fn bearer_token_never_reaches_error_output() {
    let server = keys_server(500).await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(server.uri())
        .build()
        .expect("client");
    let error = client
        .api()
        .get_signing_keys()
        .send()
        .await
        .expect_err("500");
    assert!(!format!("{error:?}").contains(TOKEN));
    assert!(!error.to_string().contains(TOKEN));
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        requests[0].headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
    assert!(requests[0].url.query().is_none());
}

#[tokio::test]
async fn a_callers_http_client_is_used_and_the_timeout_applies_to_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/keys"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-from-caller", "yes".parse().expect("header"));
    qstash::install_crypto_provider();
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("reqwest client");
    let client = Client::builder()
        .token(TOKEN)
        .base_url(server.uri())
        .http_client(http)
        .timeout(Duration::from_millis(100))
        .build()
        .expect("client");
    let error = client
        .api()
        .get_signing_keys()
        .send()
        .await
        .expect_err("times out");
    assert!(
        matches!(&error, Error::CommunicationError(e) if e.is_timeout()),
        "{error:?}"
    );
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests[0].headers["x-from-caller"], "yes");
    assert_eq!(requests[0].headers["user-agent"], qstash::USER_AGENT_VALUE);
}
