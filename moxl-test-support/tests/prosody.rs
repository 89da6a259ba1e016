//! Starts real Prosody servers and talks to them over raw TCP, STARTTLS, direct TLS and WebSocket.
//!
//! Needs Prosody installed: `bash scripts/install-test-deps.sh`.

// Test helpers may panic, unwrap and index: a failure is a failed test.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moxl_test_support::Prosody;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

const READ_TIMEOUT: Duration = Duration::from_secs(5);

fn stream_header(to: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream to='{to}' version='1.0' xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams'>"
    )
}

/// Reads until `needle` has arrived (or the peer closes, or the read times out) and returns all text read.
fn read_until(stream: &mut impl Read, needle: &str) -> String {
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + READ_TIMEOUT;
    while !String::from_utf8_lossy(&text).contains(needle) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {needle:?}; got {:?}",
            String::from_utf8_lossy(&text)
        );
        match stream.read(&mut buf) {
            Ok(0) => panic!("connection closed before {needle:?}; got {:?}", String::from_utf8_lossy(&text)),
            Ok(n) => text.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read failed before {needle:?}: {e}; got {:?}", String::from_utf8_lossy(&text)),
        }
    }
    String::from_utf8(text).expect("UTF-8 from the server")
}

fn connect(port: u16) -> TcpStream {
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect to prosody");
    tcp.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp
}

/// A rustls client that trusts only the server's throw-away CA.
fn tls_config(server: &Prosody) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(server.ca_pem().as_bytes()) {
        roots.add(cert.expect("CA PEM parses")).expect("CA accepted as trust anchor");
    }
    assert_eq!(roots.len(), 1);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"xmpp-client".to_vec()];
    Arc::new(config)
}

fn tls_client(server: &Prosody, tcp: TcpStream, sni: &str) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let name = ServerName::try_from(sni.to_owned()).unwrap();
    let conn = rustls::ClientConnection::new(tls_config(server), name).unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Authenticates with SASL PLAIN on a stream whose features were just read; returns the server's answer.
fn sasl_plain(stream: &mut (impl Read + Write), user: &str, password: &str) -> String {
    let credentials = base64(format!("\0{user}\0{password}").as_bytes());
    write!(stream, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{credentials}</auth>").unwrap();
    stream.flush().unwrap();
    // <success xmlns='...'/> or <failure xmlns='...'><not-authorized/></failure>
    let reply = read_until(stream, "/>");
    if reply.contains("<failure") && !reply.contains("</failure>") {
        return reply + &read_until(stream, "</failure>");
    }
    reply
}

fn two_accounts() -> Prosody {
    Prosody::builder().account("juliet", "secret").account("romeo", "secret").start().expect("prosody starts")
}

#[test]
fn servers_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Prosody>();
    assert_send_sync::<moxl_test_support::TestSupportError>();
}

#[test]
fn base64_matches_rfc4648_vectors() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}

#[test]
fn c2s_port_offers_starttls_and_the_upgraded_stream_authenticates() {
    let server = two_accounts();
    assert_eq!(server.domain(), "localhost");
    assert_eq!(server.jid("juliet"), "juliet@localhost");
    eprintln!("prosody {:?} started in {:?}", server.version(), server.start_duration());

    let mut tcp = connect(server.c2s_port());
    tcp.write_all(stream_header("localhost").as_bytes()).unwrap();
    let features = read_until(&mut tcp, "</stream:features>");
    assert!(features.contains("<starttls"), "no STARTTLS offered: {features}");
    assert!(features.contains("<required"), "TLS should be required: {features}");
    // c2s_require_encryption: no SASL before TLS.
    assert!(!features.contains("<mechanism>"), "mechanisms offered before TLS: {features}");

    tcp.write_all(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>").unwrap();
    let proceed = read_until(&mut tcp, "/>");
    assert!(proceed.contains("<proceed"), "{proceed}");

    let mut tls = tls_client(&server, tcp, "localhost");
    tls.write_all(stream_header("localhost").as_bytes()).unwrap();
    let features = read_until(&mut tls, "</stream:features>");
    for mechanism in ["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"] {
        assert!(features.contains(&format!("<mechanism>{mechanism}</mechanism>")), "{mechanism}: {features}");
    }
    let reply = sasl_plain(&mut tls, "romeo", "secret");
    assert!(reply.contains("<success"), "romeo (created at start) cannot log in: {reply}");
}

#[test]
fn direct_tls_port_offers_scram_and_plain_with_a_certificate_from_the_ca() {
    let server = two_accounts();
    let tcp = connect(server.direct_tls_port());
    let mut tls = tls_client(&server, tcp, "localhost");
    tls.write_all(stream_header("localhost").as_bytes()).unwrap();
    let features = read_until(&mut tls, "</stream:features>");
    assert!(features.contains("<mechanism>SCRAM-SHA-1</mechanism>"), "{features}");
    assert!(features.contains("<mechanism>PLAIN</mechanism>"), "{features}");
    assert!(!features.contains("<starttls"), "STARTTLS offered inside TLS: {features}");
    assert_eq!(tls.conn.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_3));

    let reply = sasl_plain(&mut tls, "juliet", "wrong");
    assert!(reply.contains("<failure") && reply.contains("not-authorized"), "{reply}");
}

#[test]
fn accounts_registered_later_can_log_in() {
    let server = Prosody::start().expect("prosody starts");
    server.register("mercutio", "s3cret").expect("register");
    let mut tls = tls_client(&server, connect(server.direct_tls_port()), "localhost");
    tls.write_all(stream_header("localhost").as_bytes()).unwrap();
    read_until(&mut tls, "</stream:features>");
    let reply = sasl_plain(&mut tls, "mercutio", "s3cret");
    assert!(reply.contains("<success"), "{reply}");

    let err = server.register("", "x").unwrap_err();
    assert!(matches!(err, moxl_test_support::TestSupportError::InvalidArgument(_)), "{err}");
}

#[test]
fn anonymous_vhost_offers_anonymous() {
    let server = Prosody::start().expect("prosody starts");
    assert_eq!(server.anon_domain(), "anon.localhost");
    let mut tls = tls_client(&server, connect(server.direct_tls_port()), "anon.localhost");
    tls.write_all(stream_header(server.anon_domain()).as_bytes()).unwrap();
    let features = read_until(&mut tls, "</stream:features>");
    assert!(features.contains("<mechanism>ANONYMOUS</mechanism>"), "{features}");
    tls.write_all(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>").unwrap();
    let reply = read_until(&mut tls, "/>");
    assert!(reply.contains("<success"), "{reply}");
}

#[test]
fn websocket_endpoints_upgrade() {
    let server = Prosody::start().expect("prosody starts");
    let url = server.websocket_url();
    let rest = url.strip_prefix("ws://").expect("ws:// URL");
    let (authority, path) = rest.split_once('/').unwrap();
    assert_eq!(authority, format!("127.0.0.1:{}", server.http_port().unwrap()));
    assert_eq!(path, "xmpp-websocket");
    assert_eq!(server.websocket_tls_url(), format!("wss://127.0.0.1:{}/xmpp-websocket", server.https_port().unwrap()));

    let request = format!(
        "GET /{path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: xmpp\r\n\r\n"
    );
    let mut tcp = connect(server.http_port().unwrap());
    tcp.write_all(request.as_bytes()).unwrap();
    let response = read_until(&mut tcp, "\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
    // RFC 6455 §1.3 example key and accept value.
    assert!(response.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{response}");

    // The same over TLS on the HTTPS port, verified against the CA with the IP address as name.
    let mut tls = tls_client(&server, connect(server.https_port().unwrap()), "127.0.0.1");
    tls.write_all(request.as_bytes()).unwrap();
    let response = read_until(&mut tls, "\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
}

#[test]
fn concurrent_servers_get_different_ports_and_dirs() {
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(two_accounts);
        let b = s.spawn(two_accounts);
        (a.join().unwrap(), b.join().unwrap())
    });
    let ports = |p: &Prosody| [p.c2s_port(), p.direct_tls_port(), p.http_port().unwrap(), p.https_port().unwrap()];
    let (pa, pb) = (ports(&a), ports(&b));
    for port in pa {
        assert!(!pb.contains(&port), "port {port} shared: {pa:?} vs {pb:?}");
    }
    let mut all: Vec<u16> = pa.to_vec();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 4, "{pa:?}");
    assert_ne!(a.data_dir(), b.data_dir());
    assert_ne!(a.pid(), b.pid());
    assert_ne!(a.ca_pem(), b.ca_pem(), "each server has its own CA");
}

#[test]
fn drop_stops_prosody_frees_its_port_and_removes_its_dir() {
    let server = two_accounts();
    let port = server.c2s_port();
    let dir = server.data_dir().to_path_buf();
    let ca_file = server.ca_file().to_path_buf();
    let pid = server.pid();
    assert!(dir.is_dir());
    assert_eq!(std::fs::read_to_string(&ca_file).unwrap(), server.ca_pem());
    assert!(ca_file.starts_with(&dir));
    assert!(server.config_file().is_file());
    assert!(running(&pid.to_string()));

    let started = Instant::now();
    drop(server);
    let stop = started.elapsed();
    eprintln!("prosody stopped in {stop:?}");
    assert!(stop < Duration::from_secs(3), "stopping took {stop:?}");
    assert!(!dir.exists(), "{} still exists", dir.display());
    assert!(!running(&pid.to_string()), "prosody {pid} still running");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "something still listens on {port}");
    TcpListener::bind(("127.0.0.1", port)).expect("the port is free again");
}

#[test]
fn optional_mam_and_http_upload() {
    let server = Prosody::builder().account("juliet", "secret").mam(true).http_upload(true).start().expect("starts");
    assert!(server.enabled_modules().contains(&"mam"), "{:?}", server.enabled_modules());
    assert_eq!(server.upload_domain(), Some("upload.localhost"));
    let config = std::fs::read_to_string(server.config_file()).unwrap();
    assert!(config.contains("\"muc_mam\""), "{config}");
    let url = format!("https://127.0.0.1:{}/file_share", server.https_port().unwrap());
    let log = std::fs::read_to_string(server.log_file()).unwrap();
    assert!(log.contains(&format!("Serving 'file_share' at {url}")), "{log}");

    let plain = Prosody::builder().debug_log(true).start().expect("starts");
    assert!(!plain.enabled_modules().contains(&"mam"));
    assert_eq!(plain.upload_domain(), None);
    assert!(!std::fs::read_to_string(plain.config_file()).unwrap().contains("http_file_share"));
    assert!(plain.log_tail(1000).contains("\tdebug\t"), "debug_log(true) logs at debug level");
}

#[test]
fn invalid_accounts_are_rejected_before_anything_starts() {
    let err = Prosody::builder().account("juliet", "").start().unwrap_err();
    assert!(matches!(err, moxl_test_support::TestSupportError::InvalidArgument(_)), "{err}");
    let err = Prosody::builder().account("ju liet", "x").start().unwrap_err();
    assert!(matches!(err, moxl_test_support::TestSupportError::InvalidArgument(_)), "{err}");
}

#[test]
fn a_broken_config_fails_with_the_log_tail() {
    let err = Prosody::builder().extra_config("this is not lua").start().unwrap_err();
    let text = err.to_string();
    eprintln!("{text}");
    assert!(matches!(err, moxl_test_support::TestSupportError::Start { .. }), "{text}");
    assert!(text.contains("last lines of"), "{text}");
    assert!(text.to_lowercase().contains("error"), "{text}");
}

/// Whether a process exists and is not a zombie.
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

/// Run in a child process by `watchdog_cleans_up_after_a_process_that_exits_without_dropping`.
#[test]
#[ignore = "helper: run by another test in a child process"]
fn helper_start_server_and_exit_without_dropping() {
    if std::env::var_os("MOXL_TEST_SUPPORT_LEAK_HELPER").is_none() {
        return;
    }
    let server = two_accounts();
    println!("LEAKED pid={} dir={}", server.pid(), server.data_dir().display());
    std::io::stdout().flush().unwrap();
    // Skips every destructor, like a killed test process or a server kept in a `static`.
    std::process::exit(0);
}

#[test]
fn watchdog_cleans_up_after_a_process_that_exits_without_dropping() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "helper_start_server_and_exit_without_dropping", "--ignored", "--nocapture"])
        .env("MOXL_TEST_SUPPORT_LEAK_HELPER", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("LEAKED "))
        .unwrap_or_else(|| panic!("helper printed no server: {stdout}\n{}", String::from_utf8_lossy(&output.stderr)));
    let (pid, dir) = line.split_once(' ').unwrap();
    let pid = pid.strip_prefix("pid=").unwrap();
    let dir = std::path::PathBuf::from(dir.strip_prefix("dir=").unwrap());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(10);
    while (running(pid) || dir.exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("watchdog cleaned up {:?} after the helper exited", started.elapsed());
    assert!(!running(pid), "leaked prosody {pid} still running");
    assert!(!dir.exists(), "leaked dir {} still exists", dir.display());
}

/// Extracts the value of `attr='...'` or `attr="..."` from the first element in `xml` that has it.
fn attr(xml: &str, element: &str, attr: &str) -> String {
    let start = xml.find(&format!("<{element} ")).unwrap_or_else(|| panic!("no <{element}> in {xml}"));
    let rest = &xml[start..];
    let at = rest.find(&format!("{attr}=")).unwrap_or_else(|| panic!("no {attr} in {rest}"));
    let rest = &rest[at + attr.len() + 1..];
    let quote = rest.chars().next().unwrap();
    let value = &rest[1..];
    value[..value.find(quote).unwrap()].replace("&amp;", "&")
}

#[test]
fn http_upload_slots_work_over_https() {
    let server = Prosody::builder().account("juliet", "secret").http_upload(true).start().expect("starts");
    let upload = server.upload_domain().unwrap();

    let mut xmpp = tls_client(&server, connect(server.direct_tls_port()), "localhost");
    xmpp.write_all(stream_header("localhost").as_bytes()).unwrap();
    read_until(&mut xmpp, "</stream:features>");
    assert!(sasl_plain(&mut xmpp, "juliet", "secret").contains("<success"));
    xmpp.write_all(stream_header("localhost").as_bytes()).unwrap();
    read_until(&mut xmpp, "</stream:features>");
    xmpp.write_all(b"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>").unwrap();
    let bound = read_until(&mut xmpp, "</iq>");
    assert!(bound.contains("juliet@localhost/"), "{bound}");

    let body = b"hello upload";
    write!(
        xmpp,
        "<iq type='get' to='{upload}' id='u1'><request xmlns='urn:xmpp:http:upload:0' filename='a.txt' size='{}' \
         content-type='text/plain'/></iq>",
        body.len()
    )
    .unwrap();
    let slot = read_until(&mut xmpp, "</iq>");
    let put = attr(&slot, "put", "url");
    let get = attr(&slot, "get", "url");
    // The PUT carries a bearer token (a <header name='Authorization'> child of <put>).
    let header_start = slot.find("<header name='Authorization'>").expect("Authorization header in the slot");
    let header = &slot[header_start + "<header name='Authorization'>".len()..];
    let authorization = &header[..header.find("</header>").unwrap()];
    assert!(authorization.starts_with("Bearer "), "{slot}");
    let prefix = format!("https://127.0.0.1:{}/file_share/", server.https_port().unwrap());
    assert!(put.starts_with(&prefix), "{put}");
    assert!(get.starts_with(&prefix), "{get}");

    let path = put.strip_prefix(&format!("https://127.0.0.1:{}", server.https_port().unwrap())).unwrap();
    let mut http = tls_client(&server, connect(server.https_port().unwrap()), "127.0.0.1");
    write!(
        http,
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {authorization}\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    http.write_all(body).unwrap();
    let response = read_until(&mut http, "\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");

    let path = get.strip_prefix(&format!("https://127.0.0.1:{}", server.https_port().unwrap())).unwrap();
    let mut http = tls_client(&server, connect(server.https_port().unwrap()), "127.0.0.1");
    write!(http, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let response = read_until(&mut http, "hello upload");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}
