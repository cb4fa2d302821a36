//! Provider APIs: services QStash calls on your behalf, with your
//! credentials for them forwarded, as the official TypeScript SDK's
//! `api: { name, provider }` publish option does
//! (qstash-js src/client/api/email.ts, src/client/api/llm.ts,
//! src/client/api/utils.ts).

use std::fmt;

use crate::error::InvalidInput;
use crate::secret::REDACTED;

/// A provider's API as a message [destination](super::Destination::api).
///
/// ```
/// use qstash::messages::{Callback, Destination, Llm, Message, Resend};
///
/// let email = Message::new(Destination::api(Resend::new("re_123")))
///     .json(&serde_json::json!({
///         "from": "Acme <onboarding@example.com>",
///         "to": ["user@example.com"],
///         "subject": "Hello",
///         "html": "<p>It works</p>",
///     }));
/// let completion = Message::new(Destination::api(Llm::openai("sk-...")))
///     .json(&serde_json::json!({ "model": "gpt-4o", "messages": [] }))
///     .callback(Callback::new("https://example.com/api/answer"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProviderApi {
    /// An email provider.
    Email(Resend),
    /// An LLM provider's chat API; its answer goes to the message's callback.
    Llm(Llm),
}

impl From<Resend> for ProviderApi {
    fn from(api: Resend) -> ProviderApi {
        ProviderApi::Email(api)
    }
}

impl From<Llm> for ProviderApi {
    fn from(api: Llm) -> ProviderApi {
        ProviderApi::Llm(api)
    }
}

/// [Resend](https://resend.com)'s email API (`https://api.resend.com/emails`).
/// The body is Resend's JSON email object (an array of them with
/// [`batch`](Self::batch)).
#[derive(Clone, PartialEq, Eq)]
pub struct Resend {
    token: String,
    batch: bool,
}

impl Resend {
    /// Resend with your Resend API key, forwarded as `Authorization: Bearer`.
    pub fn new(token: impl Into<String>) -> Resend {
        Resend {
            token: token.into(),
            batch: false,
        }
    }

    /// Sends several emails in one call (`/emails/batch`).
    pub fn batch(mut self) -> Resend {
        self.batch = true;
        self
    }
}

impl fmt::Debug for Resend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resend")
            .field("token", &REDACTED)
            .field("batch", &self.batch)
            .finish()
    }
}

/// Which LLM service, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LlmProvider {
    OpenAi {
        organization: Option<String>,
    },
    Anthropic,
    /// Any OpenAI-compatible API at this base URL.
    Custom {
        base_url: String,
    },
    /// QStash's own LLM endpoint (deprecated upstream).
    Upstash,
}

/// An LLM provider's chat API. QStash posts the body to it and delivers the
/// provider's answer to the message's [callback](super::Message::callback),
/// which is required.
#[derive(Clone, PartialEq, Eq)]
pub struct Llm {
    provider: LlmProvider,
    token: String,
    helicone: Option<String>,
}

impl Llm {
    fn new(provider: LlmProvider, token: String) -> Llm {
        Llm {
            provider,
            token,
            helicone: None,
        }
    }

    /// OpenAI's chat completions (`https://api.openai.com/v1/chat/completions`)
    /// with your OpenAI key.
    pub fn openai(token: impl Into<String>) -> Llm {
        Llm::new(LlmProvider::OpenAi { organization: None }, token.into())
    }

    /// Anthropic's messages API (`https://api.anthropic.com/v1/messages`)
    /// with your Anthropic key.
    pub fn anthropic(token: impl Into<String>) -> Llm {
        Llm::new(LlmProvider::Anthropic, token.into())
    }

    /// An OpenAI-compatible API: `<base_url>/v1/chat/completions` (a
    /// `base_url` that already ends in `/v1/chat/completions` or
    /// `/chat/completions` is trimmed first, as the TypeScript SDK does).
    pub fn custom(base_url: impl Into<String>, token: impl Into<String>) -> Llm {
        Llm::new(
            LlmProvider::Custom {
                base_url: base_url.into(),
            },
            token.into(),
        )
    }

    /// QStash's own LLM endpoint, which needs no key. Deprecated by Upstash
    /// (qstash-js src/client/api/llm.ts:62-69); prefer another provider.
    pub fn upstash() -> Llm {
        Llm::new(LlmProvider::Upstash, String::new())
    }

    /// The OpenAI organization (`OpenAI-Organization`); OpenAI only.
    pub fn organization(mut self, organization: impl Into<String>) -> Llm {
        if let LlmProvider::OpenAi { organization: slot } = &mut self.provider {
            *slot = Some(organization.into());
        }
        self
    }

    /// Routes the call through Helicone's gateway for analytics, with your
    /// Helicone key.
    pub fn helicone(mut self, token: impl Into<String>) -> Llm {
        self.helicone = Some(token.into());
        self
    }
}

impl fmt::Debug for Llm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Llm")
            .field("provider", &self.provider)
            .field("token", &REDACTED)
            .field("helicone", &self.helicone.as_ref().map(|_| REDACTED))
            .finish()
    }
}

/// What a provider API adds to a message.
pub(crate) struct ProviderRequest {
    /// What goes into the publish path: the provider's URL, or QStash's own
    /// `api/llm`.
    pub(crate) destination: String,
    /// Whether `destination` is a URL (checked like any destination URL).
    pub(crate) is_url: bool,
    /// Headers for the provider, forwarded unless the message sets the same name.
    pub(crate) forward: Vec<(&'static str, String)>,
    /// The message must have a callback, where the provider's answer goes.
    pub(crate) needs_callback: bool,
}

const OPENAI: &str = "https://api.openai.com";
const ANTHROPIC: &str = "https://api.anthropic.com";
const HELICONE_GATEWAY: &str = "https://gateway.helicone.ai";

impl ProviderApi {
    pub(crate) fn request(&self) -> Result<ProviderRequest, InvalidInput> {
        let empty_token = |token: &str| {
            if token.is_empty() {
                Err(InvalidInput::new(
                    "destination",
                    "the provider's token is empty",
                ))
            } else {
                Ok(())
            }
        };
        match self {
            ProviderApi::Email(resend) => {
                empty_token(&resend.token)?;
                let route = if resend.batch {
                    "emails/batch"
                } else {
                    "emails"
                };
                Ok(ProviderRequest {
                    destination: format!("https://api.resend.com/{route}"),
                    is_url: true,
                    forward: vec![("Authorization", format!("Bearer {}", resend.token))],
                    needs_callback: false,
                })
            }
            ProviderApi::Llm(llm) => llm.request(empty_token),
        }
    }
}

impl Llm {
    fn request(
        &self,
        empty_token: impl Fn(&str) -> Result<(), InvalidInput>,
    ) -> Result<ProviderRequest, InvalidInput> {
        let completions = "v1/chat/completions";
        let mut forward = Vec::new();
        let (base, route) = match &self.provider {
            LlmProvider::Upstash => {
                if self.helicone.is_some() {
                    // The TypeScript SDK would forward the QStash token
                    // itself to Helicone here; that is not done.
                    return Err(InvalidInput::new(
                        "destination",
                        "Helicone analytics with the Upstash LLM would forward your QStash \
                         token to Helicone; use another provider",
                    ));
                }
                return Ok(ProviderRequest {
                    destination: "api/llm".into(),
                    is_url: false,
                    forward,
                    needs_callback: true,
                });
            }
            LlmProvider::OpenAi { organization } => {
                empty_token(&self.token)?;
                forward.push(("Authorization", format!("Bearer {}", self.token)));
                if let Some(organization) = organization {
                    forward.push(("OpenAI-Organization", organization.clone()));
                }
                (OPENAI.to_string(), completions)
            }
            LlmProvider::Anthropic => {
                empty_token(&self.token)?;
                forward.push(("x-api-key", self.token.clone()));
                forward.push(("anthropic-version", "2023-06-01".into()));
                (ANTHROPIC.to_string(), "v1/messages")
            }
            LlmProvider::Custom { base_url } => {
                empty_token(&self.token)?;
                let base = base_url
                    .strip_suffix("/v1/chat/completions")
                    .or_else(|| base_url.strip_suffix("/chat/completions"))
                    .unwrap_or(base_url);
                forward.push(("Authorization", format!("Bearer {}", self.token)));
                (base.to_string(), completions)
            }
        };
        let destination = match &self.helicone {
            None => format!("{base}/{route}"),
            Some(token) => {
                forward.push(("Helicone-Auth", format!("Bearer {token}")));
                forward.push(("Helicone-Target-Url", base));
                format!("{HELICONE_GATEWAY}/{route}")
            }
        };
        Ok(ProviderRequest {
            destination,
            is_url: true,
            forward,
            needs_callback: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_token() {
        let shown = format!(
            "{:?} {:?}",
            ProviderApi::from(Resend::new("re_secret")),
            ProviderApi::from(Llm::openai("sk-secret").helicone("hk-secret"))
        );
        assert!(!shown.contains("secret"), "{shown}");
    }
}
