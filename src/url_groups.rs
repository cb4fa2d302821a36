//! URL groups (called topics in QStash's paths): named sets of endpoints
//! that a message published to the group reaches each.
//!
//! ```no_run
//! # async fn run(client: qstash::Client) -> Result<(), qstash::Error> {
//! use qstash::url_groups::Endpoint;
//!
//! client
//!     .url_groups()
//!     .upsert_endpoints("orders", [Endpoint::new("https://a.example.com/hook").name("a")])
//!     .send()
//!     .await?;
//! let group = client.url_groups().get("orders").send().await?;
//! # Ok(()) }
//! ```

use crate::Client;
use crate::error::{Error, InvalidInput, send};
use crate::messages::{check_name, check_url};
use crate::tolerant::build;
use crate::types;

/// The URL groups area of a [`Client`], from [`Client::url_groups`].
#[derive(Debug, Clone, Copy)]
pub struct UrlGroups<'a> {
    client: &'a Client,
}

impl Client {
    /// Managing URL groups and their endpoints.
    pub fn url_groups(&self) -> UrlGroups<'_> {
        UrlGroups { client: self }
    }
}

/// An endpoint of a URL group: its URL, and optionally a name to tell
/// endpoints apart (in logs and when removing them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    url: Option<String>,
    name: Option<String>,
}

impl Endpoint {
    /// The endpoint at `url` (absolute `http(s)`).
    pub fn new(url: impl Into<String>) -> Endpoint {
        Endpoint {
            url: Some(url.into()),
            name: None,
        }
    }

    /// The endpoint named `name`, to remove it by name.
    pub fn named(name: impl Into<String>) -> Endpoint {
        Endpoint {
            url: None,
            name: Some(name.into()),
        }
    }

    /// Gives the endpoint a name.
    pub fn name(mut self, name: impl Into<String>) -> Endpoint {
        self.name = Some(name.into());
        self
    }
}

impl<'a> UrlGroups<'a> {
    /// Adds endpoints to the group `group` (creating the group if needed);
    /// an endpoint already there with the same URL is updated.
    pub fn upsert_endpoints(
        self,
        group: impl Into<String>,
        endpoints: impl IntoIterator<Item = Endpoint>,
    ) -> EndpointsCall<'a> {
        self.endpoints_call(true, group, endpoints)
    }

    /// Removes endpoints (by URL or by name) from the group `group`; QStash
    /// deletes the group when its last endpoint goes.
    pub fn remove_endpoints(
        self,
        group: impl Into<String>,
        endpoints: impl IntoIterator<Item = Endpoint>,
    ) -> EndpointsCall<'a> {
        self.endpoints_call(false, group, endpoints)
    }

    /// One group, with its endpoints.
    pub fn get(self, group: impl Into<String>) -> GetUrlGroup<'a> {
        GetUrlGroup {
            client: self.client,
            group: group.into(),
        }
    }

    /// Deletes a group and its endpoints.
    pub fn delete(self, group: impl Into<String>) -> DeleteUrlGroup<'a> {
        DeleteUrlGroup {
            client: self.client,
            group: group.into(),
        }
    }

    /// Every URL group of the account.
    pub fn list(self) -> ListUrlGroups<'a> {
        ListUrlGroups {
            client: self.client,
        }
    }

    fn endpoints_call(
        self,
        upsert: bool,
        group: impl Into<String>,
        endpoints: impl IntoIterator<Item = Endpoint>,
    ) -> EndpointsCall<'a> {
        EndpointsCall {
            client: self.client,
            upsert,
            group: group.into(),
            endpoints: endpoints.into_iter().collect(),
        }
    }
}

/// Adding or removing endpoints, from [`UrlGroups::upsert_endpoints`] or
/// [`UrlGroups::remove_endpoints`]; finish with [`send`](Self::send).
#[derive(Debug)]
#[must_use = "nothing is sent until `send().await`"]
pub struct EndpointsCall<'a> {
    client: &'a Client,
    upsert: bool,
    group: String,
    endpoints: Vec<Endpoint>,
}

impl EndpointsCall<'_> {
    /// Checks the group name and the endpoints, then sends the call. An
    /// empty list is refused.
    pub async fn send(self) -> Result<(), Error> {
        check_name("url_group_name", "URL group", &self.group)?;
        if self.endpoints.is_empty() {
            return Err(InvalidInput::new("endpoints", "the list is empty").into());
        }
        for (index, endpoint) in self.endpoints.iter().enumerate() {
            match (&endpoint.url, &endpoint.name) {
                (Some(url), _) => check_url("endpoints", url).map_err(|e| {
                    InvalidInput::new(format!("endpoints[{index}].url"), e.reason().to_string())
                })?,
                (None, Some(name)) if self.upsert => {
                    return Err(InvalidInput::new(
                        format!("endpoints[{index}]"),
                        format!("`{name}` has no URL; adding an endpoint needs one"),
                    )
                    .into());
                }
                (None, Some(name)) if name.is_empty() => {
                    return Err(
                        InvalidInput::new(format!("endpoints[{index}].name"), "is empty").into(),
                    );
                }
                (None, _) => {}
            }
        }
        let api = self.client.api();
        let group = self.group;
        if self.upsert {
            let endpoints = self
                .endpoints
                .into_iter()
                .enumerate()
                .filter_map(|(index, e)| {
                    let item = types::builder::UpsertUrlGroupEndpointsBodyEndpointsItem::default();
                    Some(build(
                        format!("endpoints[{index}]"),
                        item.url(e.url?).name(e.name),
                    ))
                })
                .collect::<Result<Vec<types::UpsertUrlGroupEndpointsBodyEndpointsItem>, _>>()?;
            let call = api
                .upsert_url_group_endpoints()
                .url_group_name(group)
                .body_map(|body| body.endpoints(endpoints));
            send(call.send_ignoring_answer()).await
        } else {
            let endpoints = self
                .endpoints
                .into_iter()
                .enumerate()
                .map(|(index, e)| {
                    let item = types::builder::Endpoint::default().url(e.url).name(e.name);
                    build(format!("endpoints[{index}]"), item)
                })
                .collect::<Result<Vec<types::Endpoint>, _>>()?;
            let call = api
                .remove_url_group_endpoints()
                .url_group_name(group)
                .body_map(|body| body.endpoints(endpoints));
            send(call.send_ignoring_answer()).await
        }
    }
}

/// Getting one group, from [`UrlGroups::get`]; finish with [`send`](Self::send).
#[derive(Debug)]
#[must_use = "nothing is sent until `send().await`"]
pub struct GetUrlGroup<'a> {
    client: &'a Client,
    group: String,
}

impl GetUrlGroup<'_> {
    /// Checks the name and sends the call.
    pub async fn send(self) -> Result<types::UrlGroup, Error> {
        check_name("url_group_name", "URL group", &self.group)?;
        let call = self.client.api().get_url_group().url_group_name(self.group);
        send(call.send()).await
    }
}

/// Deleting one group, from [`UrlGroups::delete`]; finish with [`send`](Self::send).
#[derive(Debug)]
#[must_use = "nothing is sent until `send().await`"]
pub struct DeleteUrlGroup<'a> {
    client: &'a Client,
    group: String,
}

impl DeleteUrlGroup<'_> {
    /// Checks the name and sends the call.
    pub async fn send(self) -> Result<(), Error> {
        check_name("url_group_name", "URL group", &self.group)?;
        let call = self
            .client
            .api()
            .delete_url_group()
            .url_group_name(self.group);
        send(call.send_ignoring_answer()).await
    }
}

/// Listing groups, from [`UrlGroups::list`]; finish with [`send`](Self::send).
#[derive(Debug)]
#[must_use = "nothing is sent until `send().await`"]
pub struct ListUrlGroups<'a> {
    client: &'a Client,
}

impl ListUrlGroups<'_> {
    /// Sends the call.
    pub async fn send(self) -> Result<Vec<types::UrlGroup>, Error> {
        send(self.client.api().list_url_groups().send()).await
    }
}
