//! Outgoing notices: the [`Channel`] a reminder (催报) goes through, with
//! e-mail over SMTP (lettre) as its implementation, configured by `[mail]`.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailSettings;

/// A notice to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Where it goes (an e-mail address for [`Mailer`]).
    pub to: String,
    pub subject: String,
    /// Plain text.
    pub body: String,
}

/// Something that delivers notices. A failed delivery is an error text,
/// logged and tried again later: never a crash.
pub trait Channel: Send + Sync {
    /// The channel's name in metrics (`unionstat_reminders_sent_total{channel}`):
    /// one of `telemetry::REMINDER_CHANNELS`.
    fn name(&self) -> &'static str;

    fn deliver(
        &self,
        notice: &Notice,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// E-mail over SMTP.
pub struct Mailer {
    /// None when `mail.smtp_host` is empty: every delivery fails, saying so.
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Result<Mailbox, String>,
}

impl Mailer {
    pub fn new(settings: &MailSettings) -> Mailer {
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|e| format!("mail.from = {:?} is not a mailbox: {e}", settings.from));
        let host = settings.smtp_host.trim();
        let transport = (!host.is_empty()).then(|| {
            let builder = match settings.tls.as_str() {
                "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
                "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
                _ => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                    host,
                )),
            };
            builder.map(|b| {
                let mut b = b
                    .port(settings.smtp_port)
                    .timeout(Some(Duration::from_secs(settings.timeout_seconds)));
                if !settings.username.is_empty() {
                    b = b.credentials(Credentials::new(
                        settings.username.clone(),
                        settings.password.clone(),
                    ));
                }
                b.build()
            })
        });
        let transport = match transport {
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "mail: cannot set up the SMTP transport");
                None
            }
            None => None,
        };
        Mailer { transport, from }
    }
}

impl Channel for Mailer {
    fn name(&self) -> &'static str {
        "email"
    }

    async fn deliver(&self, notice: &Notice) -> Result<(), String> {
        let Some(transport) = &self.transport else {
            return Err(
                "mail.smtp_host is not set (or its TLS set-up failed): nothing was sent".into(),
            );
        };
        let from = self.from.clone()?;
        let to = notice
            .to
            .parse::<Mailbox>()
            .map_err(|e| format!("{:?} is not an e-mail address: {e}", notice.to))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(notice.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .header(ContentTransferEncoding::Base64)
            .body(notice.body.clone())
            .map_err(|e| format!("the message could not be made: {e}"))?;
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}
