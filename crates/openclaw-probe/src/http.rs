//! A minimal HTTP/1.1 client over `std::net::TcpStream`: one request per connection
//! (`Connection: close`), every step bounded by one deadline, response bodies capped.
//! Enough for `/healthz`, `/readyz` and `POST /tools/invoke`; no TLS (the probe meets the
//! gateway on its plain listener).

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::target::HttpTarget;

/// Bodies beyond this are cut: the probe only reads small JSON answers.
pub const MAX_BODY: usize = 64 * 1024;
const MAX_HEAD: usize = 16 * 1024;

/// Why the gateway could not be talked to. `Refused` and `Timeout` mean "down".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    Refused,
    Timeout(&'static str),
    Other(String),
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetError::Refused => f.write_str("connection refused"),
            NetError::Timeout(step) => write!(f, "timed out {step}"),
            NetError::Other(e) => f.write_str(e),
        }
    }
}

impl NetError {
    pub fn from_io(e: &std::io::Error, step: &'static str) -> NetError {
        match e.kind() {
            ErrorKind::ConnectionRefused => NetError::Refused,
            ErrorKind::WouldBlock | ErrorKind::TimedOut => NetError::Timeout(step),
            _ => NetError::Other(format!("{step}: {e}")),
        }
    }
}

/// A point in time every socket operation of one exchange must finish by.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn after(d: Duration) -> Deadline {
        Deadline(Instant::now() + d)
    }
    /// Time left, or a timeout error naming the step that ran out of it.
    pub fn left(&self, step: &'static str) -> Result<Duration, NetError> {
        let now = Instant::now();
        if now >= self.0 {
            return Err(NetError::Timeout(step));
        }
        // set_read_timeout rejects zero.
        Ok((self.0 - now).max(Duration::from_millis(1)))
    }
}

/// Connects to the first address of `host:port` that answers, within the deadline.
pub fn connect(host: &str, port: u16, deadline: Deadline) -> Result<TcpStream, NetError> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| NetError::Other(format!("resolving {host}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(NetError::Other(format!("{host} resolves to no address")));
    }
    let mut last = NetError::Refused;
    for a in addrs {
        let left = deadline.left("connecting")?;
        match TcpStream::connect_timeout(&a, left) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = NetError::from_io(&e, "connecting"),
        }
    }
    Err(last)
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text, cut to `max` characters, for messages.
    pub fn excerpt(&self, max: usize) -> String {
        let s = String::from_utf8_lossy(&self.body);
        let s = s.trim();
        match s.char_indices().nth(max) {
            Some((i, _)) => format!("{}…", &s[..i]),
            None => s.to_string(),
        }
    }
}

/// One request. `bearer` goes into the `Authorization` header only; nothing here logs
/// request headers or bodies.
pub fn request(
    target: &HttpTarget,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    json_body: Option<&str>,
    timeout: Duration,
) -> Result<Response, NetError> {
    let deadline = Deadline::after(timeout);
    let started = Instant::now();
    let mut s = connect(&target.host, target.port, deadline)?;
    let mut req = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: openclaw-probe/{}\r\nAccept: application/json\r\nConnection: close\r\n",
        target.path(path),
        target.authority,
        env!("CARGO_PKG_VERSION"),
    );
    if let Some(t) = bearer {
        req.push_str("Authorization: Bearer ");
        req.push_str(t);
        req.push_str("\r\n");
    }
    match json_body {
        Some(b) => {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            ));
        }
        None => req.push_str("\r\n"),
    }
    s.set_write_timeout(Some(deadline.left("sending the request")?))
        .map_err(|e| NetError::from_io(&e, "sending the request"))?;
    s.write_all(req.as_bytes())
        .map_err(|e| NetError::from_io(&e, "sending the request"))?;
    let resp = read_response(&mut s, deadline)?;
    tracing::debug!(
        method,
        path,
        status = resp.status,
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "http"
    );
    Ok(resp)
}

fn read_some(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    deadline: Deadline,
    step: &'static str,
) -> Result<usize, NetError> {
    s.set_read_timeout(Some(deadline.left(step)?))
        .map_err(|e| NetError::from_io(&e, step))?;
    let mut chunk = [0u8; 8192];
    loop {
        match s.read(&mut chunk) {
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(n);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(NetError::from_io(&e, step)),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn read_response(s: &mut TcpStream, deadline: Deadline) -> Result<Response, NetError> {
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(NetError::Other("response head too large".into()));
        }
        if read_some(s, &mut buf, deadline, "waiting for the response")? == 0 {
            return Err(NetError::Other(if buf.is_empty() {
                "connection closed without a response".into()
            } else {
                "connection closed inside the response head".into()
            }));
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let (status, content_length, chunked) = parse_head(&head)?;
    let mut body = buf.split_off(head_end + 4);
    // Read until the declared length, or until close (Connection: close), capped.
    loop {
        if body.len() >= MAX_BODY {
            body.truncate(MAX_BODY);
            break;
        }
        if let Some(n) = content_length {
            if body.len() >= n {
                body.truncate(n);
                break;
            }
        }
        if chunked && (find(&body, b"\r\n0\r\n").is_some() || body.starts_with(b"0\r\n")) {
            break;
        }
        match read_some(s, &mut body, deadline, "reading the response body") {
            Ok(0) => break,
            Ok(_) => {}
            // A complete head with a status is the answer the checks need; a slow body
            // must not turn a 401 into "down".
            Err(NetError::Timeout(_)) if !body.is_empty() || content_length.is_none() => break,
            Err(e) => return Err(e),
        }
    }
    if chunked {
        body = dechunk(&body);
    }
    Ok(Response { status, body })
}

/// Status code, Content-Length, chunked?
pub fn parse_head(head: &str) -> Result<(u16, Option<usize>, bool), NetError> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(NetError::Other(format!(
            "not an HTTP/1.x response: {:?}",
            status_line.chars().take(40).collect::<String>()
        )));
    }
    let status = parts
        .next()
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|c| (100..=599).contains(c))
        .ok_or_else(|| NetError::Other("bad HTTP status line".into()))?;
    let mut len = None;
    let mut chunked = false;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("content-length") {
            len = v.parse().ok();
        } else if k.eq_ignore_ascii_case("transfer-encoding")
            && v.to_ascii_lowercase().contains("chunked")
        {
            chunked = true;
        }
    }
    if chunked {
        len = None;
    }
    Ok((status, len, chunked))
}

/// Decodes a chunked body as far as it is complete.
pub fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = find(b, b"\r\n") {
        let size_txt = String::from_utf8_lossy(&b[..i]);
        let size_txt = size_txt.split(';').next().unwrap_or("").trim();
        let Ok(n) = usize::from_str_radix(size_txt, 16) else {
            break;
        };
        if n == 0 {
            break;
        }
        let start = i + 2;
        let end = (start + n).min(b.len());
        out.extend_from_slice(&b[start..end]);
        if end + 2 > b.len() {
            break;
        }
        b = &b[end + 2..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        let (s, l, c) =
            parse_head("HTTP/1.1 401 Unauthorized\r\nContent-Length: 58\r\nX: y").unwrap();
        assert_eq!((s, l, c), (401, Some(58), false));
        let (s, l, c) =
            parse_head("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\ncontent-length: 3")
                .unwrap();
        assert_eq!((s, l, c), (200, None, true));
        assert_eq!(parse_head("HTTP/1.0 503").unwrap().0, 503);
        assert!(parse_head("SSH-2.0-OpenSSH").is_err());
        assert!(parse_head("HTTP/1.1 abc OK").is_err());
        assert!(parse_head("HTTP/1.1 999 Nope").is_err());
    }

    #[test]
    fn chunks() {
        assert_eq!(
            dechunk(b"4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n"),
            b"Wikipedia"
        );
        assert_eq!(dechunk(b"4\r\nWi"), b"Wi");
        assert_eq!(dechunk(b"zz\r\n"), b"");
    }

    #[test]
    fn excerpts() {
        let r = Response {
            status: 200,
            body: "  héllo world \n".into(),
        };
        assert_eq!(r.excerpt(5), "héllo…");
        assert_eq!(r.excerpt(50), "héllo world");
    }

    #[test]
    fn refused_is_fast_and_named() {
        // Bind then drop to get a port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let t: HttpTarget = format!("http://127.0.0.1:{port}").parse().unwrap();
        let start = Instant::now();
        let e = request(&t, "GET", "/healthz", None, None, Duration::from_secs(2)).unwrap_err();
        assert_eq!(e, NetError::Refused);
        assert!(start.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn reads_a_response_from_a_local_server() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut req = vec![0u8; 4096];
            let n = c.read(&mut req).unwrap();
            c.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\n{\"ok\":true,\"status\":\"live\"}",
            )
            .unwrap();
            String::from_utf8_lossy(&req[..n]).into_owned()
        });
        let t: HttpTarget = format!("http://127.0.0.1:{port}").parse().unwrap();
        let r = request(
            &t,
            "POST",
            "/tools/invoke",
            Some("tok"),
            Some("{}"),
            Duration::from_secs(2),
        )
        .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, br#"{"ok":true,"status":"live"}"#);
        let req = h.join().unwrap();
        assert!(req.starts_with("POST /tools/invoke HTTP/1.1\r\n"), "{req}");
        assert!(req.contains("\r\nAuthorization: Bearer tok\r\n"));
        assert!(req.contains("\r\nContent-Length: 2\r\n\r\n{}"));
    }

    #[test]
    fn silent_server_times_out_within_bound() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t: HttpTarget = format!("http://127.0.0.1:{port}").parse().unwrap();
        let start = Instant::now();
        let e = request(
            &t,
            "GET",
            "/healthz",
            None,
            None,
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(matches!(e, NetError::Timeout(_)), "{e:?}");
        assert!(start.elapsed() < Duration::from_millis(1000));
        drop(l);
    }
}
