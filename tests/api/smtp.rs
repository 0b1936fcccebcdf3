//! A small SMTP server for the tests, on a tokio listener at 127.0.0.1:0: it
//! speaks enough SMTP for lettre (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
//! QUIT), keeps every message it accepts, and refuses the recipients it is
//! told to (550), so that a failed delivery can be made on purpose.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as received: the envelope and the decoded subject and body.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    refused: Vec<String>,
}

pub struct SmtpServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("smtp bind");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = session(socket, state).await;
                });
            }
        });
        SmtpServer { port, state, task }
    }

    /// Every message accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Refuse (550) or accept again mail to `address`.
    pub fn refuse(&self, address: &str, refuse: bool) {
        let mut s = self.state.lock().unwrap();
        s.refused.retain(|a| a != address);
        if refuse {
            s.refused.push(address.to_string());
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The address inside `MAIL FROM:<a>` or `RCPT TO:<a>`.
fn angle(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg[start..].find('>').map_or(arg.len(), |i| start + i);
    arg[start..end].to_string()
}

async fn session(socket: tokio::net::TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 localhost unionstat test SMTP\r\n")
        .await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 localhost\r\n",
            "MAIL" => {
                from = angle(line);
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                let rcpt = angle(line);
                if state.lock().unwrap().refused.contains(&rcpt) {
                    b"550 mailbox unavailable\r\n"
                } else {
                    to.push(rcpt);
                    b"250 OK\r\n"
                }
            }
            "DATA" => {
                write.write_all(b"354 end with .\r\n").await?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if lines.read_line(&mut l).await? == 0 {
                        return Ok(());
                    }
                    if l == ".\r\n" || l == ".\n" {
                        break;
                    }
                    data.push_str(
                        l.strip_prefix('.')
                            .filter(|_| l.starts_with(".."))
                            .unwrap_or(&l),
                    );
                }
                let (subject, body) = decode(&data);
                state.lock().unwrap().received.push(Received {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    subject,
                    body,
                });
                b"250 OK queued\r\n"
            }
            "RSET" => {
                to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// The subject (RFC 2047 encoded words decoded) and the body (base64 or
/// plain) of a message as sent.
fn decode(data: &str) -> (String, String) {
    let (head, body) = data.split_once("\r\n\r\n").unwrap_or((data, ""));
    // Unfold the header: a line starting with white space continues the last.
    let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    // Adjacent encoded words join without the space between them (a word
    // may end inside a character: the bytes are joined before decoding).
    let mut subject: Vec<u8> = Vec::new();
    let mut last_encoded = false;
    for word in header("Subject").split_whitespace() {
        let b64 = word
            .strip_prefix("=?")
            .and_then(|w| w.strip_suffix("?="))
            .and_then(|w| {
                let mut parts = w.splitn(3, '?');
                let (_, enc, text) = (parts.next()?, parts.next()?, parts.next()?);
                enc.eq_ignore_ascii_case("b").then_some(text)
            });
        let encoded = b64.is_some();
        if !subject.is_empty() && !(encoded && last_encoded) {
            subject.push(b' ');
        }
        match b64 {
            Some(text) => subject.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .expect("base64 word"),
            ),
            None => subject.extend_from_slice(word.as_bytes()),
        }
        last_encoded = encoded;
    }
    let subject = String::from_utf8(subject).expect("utf-8 subject");
    let body = if header("Content-Transfer-Encoding").eq_ignore_ascii_case("base64") {
        let joined: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .expect("base64 body"),
        )
        .expect("utf-8 body")
    } else {
        body.to_string()
    };
    (subject, body.replace("\r\n", "\n"))
}
