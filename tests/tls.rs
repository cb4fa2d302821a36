//! TLS by feature. The client the builder creates carries its own TLS
//! configuration: building it and calling an HTTPS server installs no
//! process-wide rustls provider. The server is on 127.0.0.1 with a
//! certificate from a test CA (`tests/fixtures/tls/make.sh`) that the
//! platform verifier (or OpenSSL, with `native-tls`) trusts through
//! `SSL_CERT_FILE`, as it would a system CA: the production configuration,
//! not one made for the test. Without a TLS feature, an `https://` server
//! is a `ConfigError` at build time.
//!
//! Nothing in this test binary installs a rustls provider, so the checks
//! that none is installed mean what they say.

use std::sync::Once;

use qstash::Client;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");

/// Makes the test CA the system's root store, before any client is built.
fn trust_test_ca() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: every test of this binary calls this first and waits for
        // it, so no other thread reads the environment meanwhile.
        unsafe { std::env::set_var("SSL_CERT_FILE", format!("{FIXTURES}/ca.pem")) };
        // With a directory set too, the platform verifier would add its
        // certificates (the system's, where it points there).
        unsafe { std::env::remove_var("SSL_CERT_DIR") };
    });
}

fn no_process_wide_provider() -> bool {
    rustls::crypto::CryptoProvider::get_default().is_none()
}

#[test]
fn building_a_client_installs_no_process_wide_provider() {
    trust_test_ca();
    let builder = Client::builder().token("token");
    // With TLS, the default (https) server; without, a local http one.
    #[cfg(not(any(
        feature = "rustls",
        feature = "rustls-aws-lc-rs",
        feature = "native-tls"
    )))]
    let builder = builder.base_url("http://127.0.0.1:8080");
    builder.build().expect("client");
    assert!(no_process_wide_provider());
}

#[cfg(not(any(
    feature = "rustls",
    feature = "rustls-aws-lc-rs",
    feature = "native-tls"
)))]
#[test]
fn without_tls_an_https_server_is_a_config_error() {
    trust_test_ca();
    for url in ["https://qstash.upstash.io", "https://127.0.0.1:8443/qstash"] {
        let error = Client::builder()
            .token("token")
            .base_url(url)
            .build()
            .expect_err("https without TLS");
        assert!(
            matches!(&error, qstash::ConfigError::TlsNotEnabled { url: shown } if shown == url),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(
            text.contains("rustls") && text.contains("native-tls"),
            "{text}"
        );
    }
    // The default server is https too.
    assert!(matches!(
        Client::builder().token("token").build(),
        Err(qstash::ConfigError::TlsNotEnabled { .. })
    ));
}

#[cfg(any(
    feature = "rustls",
    feature = "rustls-aws-lc-rs",
    feature = "native-tls"
))]
mod https {
    use std::sync::{Arc, Mutex};

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use qstash::clock::Sleep;
    use qstash::messages::{Destination, Message};
    use qstash::{Client, Clock, Error, RetryPolicy};
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;
    use tokio_rustls::LazyConfigAcceptor;

    use super::{FIXTURES, no_process_wide_provider, trust_test_ca};

    /// An HTTPS server answering every request with signing keys, which
    /// records the ALPN protocols each client offers.
    struct Server {
        url: String,
        offers: Arc<Mutex<Vec<Vec<String>>>>,
    }

    /// The test certificate's server configuration, offering `alpn`.
    fn server_config(alpn: &[&[u8]]) -> Arc<rustls::ServerConfig> {
        let certs = CertificateDer::pem_file_iter(format!("{FIXTURES}/server.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(format!("{FIXTURES}/server.key")).unwrap();
        // The server's provider is its own, not installed process-wide.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    async fn serve(ip: &str) -> Server {
        let config = server_config(&[]);
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let offers = Arc::new(Mutex::new(Vec::new()));
        let recorded = offers.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream);
                let Ok(start) = acceptor.await else { continue };
                let offered = start
                    .client_hello()
                    .alpn()
                    .map(|protocols| {
                        protocols
                            .map(|p| String::from_utf8_lossy(p).into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                recorded.lock().unwrap().push(offered);
                let Ok(mut tls) = start.into_stream(config.clone()).await else {
                    continue;
                };
                tokio::spawn(async move {
                    // One request head (no body: GET), at most 64 KiB of it.
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 1 << 16 {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let body = r#"{"current":"sig_tls_current","next":"sig_tls_next"}"#;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Server { url, offers }
    }

    /// An HTTP/2 server (ALPN `h2`) that resets its first `refusals`
    /// streams with `REFUSED_STREAM`, which tells the client it processed
    /// nothing, and answers the others (signing keys for a key rotation, a
    /// publish's answer otherwise); it counts both.
    struct RefusingServer {
        url: String,
        refused: Arc<AtomicUsize>,
        answered: Arc<AtomicUsize>,
    }

    async fn serve_h2_refusing(refusals: usize) -> RefusingServer {
        let config = server_config(&[b"h2"]);
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let (refused, answered) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let counts = (refused.clone(), answered.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
                let (refused, answered) = counts.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut connection) = h2::server::handshake(tls).await else {
                        return;
                    };
                    while let Some(Ok((request, mut respond))) = connection.accept().await {
                        if refused.load(Ordering::SeqCst) < refusals {
                            refused.fetch_add(1, Ordering::SeqCst);
                            respond.send_reset(h2::Reason::REFUSED_STREAM);
                            continue;
                        }
                        answered.fetch_add(1, Ordering::SeqCst);
                        let head = http::Response::builder()
                            .header("content-type", "application/json")
                            .body(())
                            .unwrap();
                        let Ok(mut body) = respond.send_response(head, false) else {
                            return;
                        };
                        let answer = if request.uri().path().ends_with("/rotate") {
                            r#"{"current":"sig_h2_current","next":"sig_h2_next"}"#
                        } else {
                            r#"{"messageId":"msg_h2"}"#
                        };
                        let _ = body.send_data(answer.into(), true);
                    }
                });
            }
        });
        RefusingServer {
            url,
            refused,
            answered,
        }
    }

    /// The real time, with each backoff wait recorded and ended at once.
    #[derive(Debug, Clone, Default)]
    struct RecordedWaits(Arc<Mutex<Vec<Duration>>>);

    impl Clock for RecordedWaits {
        fn now(&self) -> std::time::SystemTime {
            std::time::SystemTime::now()
        }

        fn instant(&self) -> std::time::Instant {
            std::time::Instant::now()
        }

        fn sleep(&self, wait: Duration) -> Sleep {
            self.0.lock().unwrap().push(wait);
            Box::pin(std::future::ready(()))
        }
    }

    async fn publish(client: &Client) -> Result<qstash::messages::Published, Error> {
        let message = Message::new(Destination::url("https://example.com/api")).text("hi");
        client.messages().publish(message).send().await
    }

    /// With this crate's retries on, the builder's client leaves a stream an
    /// HTTP/2 server refused unprocessed to them (reqwest's own retry layer,
    /// which would copy every request for it, is off): it is sent again
    /// after a backoff wait, and arrives once.
    #[tokio::test]
    async fn a_stream_refused_unprocessed_is_sent_again_by_the_crates_retries() {
        trust_test_ca();
        let server = serve_h2_refusing(1).await;
        let waits = RecordedWaits::default();
        let client = Client::builder()
            .token("token")
            .base_url(&server.url)
            .retry(RetryPolicy::default().clock(waits.clone()))
            .build()
            .unwrap();
        let published = publish(&client).await.expect("sent again, then answered");
        assert_eq!(published.message_ids(), ["msg_h2"]);
        assert_eq!(server.refused.load(Ordering::SeqCst), 1);
        assert_eq!(server.answered.load(Ordering::SeqCst), 1);
        // This crate's loop sent it again (reqwest's would not have waited).
        assert_eq!(waits.0.lock().unwrap().len(), 1);
    }

    /// A request that is not repeated once it may have arrived (rotating
    /// the signing keys twice discards a key) is repeated after a refusal:
    /// the server said it did nothing.
    #[tokio::test]
    async fn a_refused_stream_is_sent_again_even_for_a_call_never_repeated_once_it_may_have_arrived()
     {
        trust_test_ca();
        let server = serve_h2_refusing(1).await;
        let client = Client::builder()
            .token("token")
            .base_url(&server.url)
            .retry(RetryPolicy::default().clock(RecordedWaits::default()))
            .build()
            .unwrap();
        let keys = client.signing_keys().rotate().send().await;
        let keys = keys.expect("sent again, then answered");
        assert_eq!(keys.current.as_deref(), Some("sig_h2_current"));
        assert_eq!(server.refused.load(Ordering::SeqCst), 1);
        assert_eq!(server.answered.load(Ordering::SeqCst), 1);
    }

    /// Refusals take this crate's attempts, and no more: with two attempts,
    /// two streams, then the refusal is the error.
    #[tokio::test]
    async fn refusals_take_the_attempts_of_the_crates_retries_and_no_more() {
        trust_test_ca();
        let server = serve_h2_refusing(usize::MAX).await;
        let client = Client::builder()
            .token("token")
            .base_url(&server.url)
            .retry(
                RetryPolicy::default()
                    .max_attempts(2)
                    .clock(RecordedWaits::default()),
            )
            .build()
            .unwrap();
        let error = publish(&client).await.expect_err("refused every time");
        assert!(matches!(error, Error::Transport(_)), "{error:?}");
        assert_eq!(server.refused.load(Ordering::SeqCst), 2);
        assert_eq!(server.answered.load(Ordering::SeqCst), 0);
    }

    /// With the crate's retries off, reqwest's own retry layer stays on and
    /// repeats the refused stream itself.
    #[tokio::test]
    async fn with_the_crates_retries_off_reqwest_repeats_a_refused_stream() {
        trust_test_ca();
        let server = serve_h2_refusing(1).await;
        let published = publish(&client(&server.url))
            .await
            .expect("sent again by reqwest, then answered");
        assert_eq!(published.message_ids(), ["msg_h2"]);
        assert_eq!(server.refused.load(Ordering::SeqCst), 1);
        assert_eq!(server.answered.load(Ordering::SeqCst), 1);
    }

    fn client(url: &str) -> Client {
        Client::builder()
            .token("token")
            .base_url(url)
            .no_retries()
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn the_builders_client_calls_an_https_server_its_platform_trusts() {
        trust_test_ca();
        let server = serve("127.0.0.1").await;
        let keys = client(&server.url).signing_keys().get().send().await;
        let keys = keys.expect("the test CA is trusted through the platform's store");
        assert_eq!(keys.current.as_deref(), Some("sig_tls_current"));
        // reqwest's own offer with HTTP/2 compiled in; the server chose
        // HTTP/1.1 by offering nothing.
        assert_eq!(*server.offers.lock().unwrap(), [["h2", "http/1.1"]]);
        assert!(no_process_wide_provider());
    }

    /// The dev server delivers over HTTPS with the same TLS configuration,
    /// set on its own delivery client: starting it and delivering installs
    /// no process-wide provider either.
    #[cfg(feature = "dev-server")]
    #[tokio::test]
    async fn the_dev_server_delivers_to_an_https_endpoint_without_a_process_wide_provider() {
        use qstash::messages::{Destination, Message};
        use qstash::types::LogEntryState;

        trust_test_ca();
        let endpoint = serve("127.0.0.1").await;
        let dev = qstash::dev_server::DevServer::builder()
            .start()
            .await
            .expect("the dev server starts");
        // GET: the test server reads a request head, and no body.
        let message = Message::new(Destination::url(format!("{}/jobs", endpoint.url)))
            .method(http::Method::GET);
        let published = dev
            .client()
            .unwrap()
            .messages()
            .publish(message)
            .send()
            .await
            .expect("published");
        let id = published.message_ids()[0].to_owned();
        // A generous guard, not a wait: a delivery on this machine takes
        // milliseconds, and a failing handshake is logged as an error first.
        let delivered = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            dev.wait_for_log(|entry| {
                entry.message_id.as_deref() == Some(&*id)
                    && matches!(
                        entry.state,
                        Some(LogEntryState::Delivered | LogEntryState::Error)
                    )
            }),
        )
        .await
        .expect("the delivery ends");
        assert_eq!(
            delivered.state,
            Some(LogEntryState::Delivered),
            "{delivered:?}"
        );
        assert_eq!(*endpoint.offers.lock().unwrap(), [["h2", "http/1.1"]]);
        assert!(no_process_wide_provider());
    }

    /// The certificate names 127.0.0.1 and localhost: served on 127.0.0.2,
    /// it is refused, so the client verifies what it is given.
    #[tokio::test]
    async fn a_certificate_for_another_host_is_refused() {
        trust_test_ca();
        let server = serve("127.0.0.2").await;
        let error = client(&server.url)
            .signing_keys()
            .get()
            .send()
            .await
            .expect_err("the name does not match");
        assert!(matches!(error, Error::Transport(_)), "{error:?}");
        let chain =
            std::iter::successors(Some(&error as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(": ");
        assert!(chain.to_lowercase().contains("certificate"), "{chain}");
        assert_eq!(server.offers.lock().unwrap().len(), 1);
        assert!(no_process_wide_provider());
    }
}
