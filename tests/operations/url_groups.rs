//! list_url_groups, get_url_group, delete_url_group,
//! upsert_url_group_endpoints, remove_url_group_endpoints. URL groups are
//! called topics on the wire.

use qstash::types::{
    Endpoint, RemoveUrlGroupEndpointsBody, UpsertUrlGroupEndpointsBody,
    UpsertUrlGroupEndpointsBodyEndpointsItem,
};
use serde_json::json;

use crate::{
    Api, Expect, assert_error_response, assert_round_trip, empty_reply, error_reply, fixture_reply,
};

#[tokio::test]
async fn list_url_groups_decodes_every_group() {
    let api = Api::replying(fixture_reply(200, "list_url_groups")).await;
    let groups = api
        .client
        .api()
        .list_url_groups()
        .send()
        .await
        .expect("list succeeds")
        .into_inner();

    Expect::new("GET", "/v2/topics").assert(&api.request().await);
    let names: Vec<_> = groups.iter().map(|g| g.name.as_deref()).collect();
    assert_eq!(names, [Some("my-group"), Some("audit")]);
    assert_eq!(groups[0].endpoints.len(), 2);
    assert_eq!(groups[0].endpoints[1].name, None);
    assert_round_trip(&groups, "list_url_groups");
}

#[tokio::test]
async fn get_url_group_decodes_every_field() {
    let api = Api::replying(fixture_reply(200, "get_url_group")).await;
    let group = api
        .client
        .api()
        .get_url_group()
        .url_group_name("my-group")
        .send()
        .await
        .expect("get succeeds")
        .into_inner();

    Expect::new("GET", "/v2/topics/my-group").assert(&api.request().await);
    assert_eq!(group.name.as_deref(), Some("my-group"));
    assert_eq!(group.created_at, Some(1_732_200_000_000));
    assert_eq!(group.updated_at, Some(1_732_286_400_000));
    assert_eq!(group.endpoints[0].name.as_deref(), Some("a"));
    assert_eq!(
        group.endpoints[0].url.as_deref(),
        Some("https://example.com/a")
    );
    assert_round_trip(&group, "get_url_group");
}

#[tokio::test]
async fn get_url_group_decodes_not_found() {
    let api = Api::replying(error_reply(404, "topic not found")).await;
    let result = api
        .client
        .api()
        .get_url_group()
        .url_group_name("nope")
        .send()
        .await;
    assert_error_response(result, 404, "topic not found");
}

#[tokio::test]
async fn delete_url_group_sends_delete() {
    let api = Api::replying(empty_reply(200)).await;
    api.client
        .api()
        .delete_url_group()
        .url_group_name("my-group")
        .send_ignoring_answer()
        .await
        .expect("delete succeeds");
    Expect::new("DELETE", "/v2/topics/my-group").assert(&api.request().await);
}

#[tokio::test]
async fn upsert_url_group_endpoints_posts_the_endpoints_as_json() {
    let api = Api::replying(empty_reply(200)).await;
    // Built field by field, as a newer spec may add fields.
    let endpoints: Vec<UpsertUrlGroupEndpointsBodyEndpointsItem> = [
        UpsertUrlGroupEndpointsBodyEndpointsItem::builder()
            .name("a".to_string())
            .url("https://example.com/a"),
        UpsertUrlGroupEndpointsBodyEndpointsItem::builder().url("https://example.com/b"),
    ]
    .into_iter()
    .map(|item| item.try_into().expect("every required field is set"))
    .collect();
    let body = UpsertUrlGroupEndpointsBody::builder().endpoints(endpoints);
    api.client
        .api()
        .upsert_url_group_endpoints()
        .url_group_name("my-group")
        .body(body)
        .send_ignoring_answer()
        .await
        .expect("upsert succeeds");

    Expect::new("POST", "/v2/topics/my-group/endpoints")
        .json(json!({
            "endpoints": [
                { "name": "a", "url": "https://example.com/a" },
                { "url": "https://example.com/b" }
            ]
        }))
        .assert(&api.request().await);
}

/// A DELETE with a JSON body: endpoints named either way.
#[tokio::test]
async fn remove_url_group_endpoints_deletes_with_a_json_body() {
    let api = Api::replying(empty_reply(200)).await;
    let endpoints: Vec<Endpoint> = [
        Endpoint::builder().name("a".to_string()),
        Endpoint::builder().url("https://example.com/b".to_string()),
    ]
    .into_iter()
    .map(|item| item.try_into().expect("every required field is set"))
    .collect();
    let body = RemoveUrlGroupEndpointsBody::builder().endpoints(endpoints);
    api.client
        .api()
        .remove_url_group_endpoints()
        .url_group_name("my-group")
        .body(body)
        .send_ignoring_answer()
        .await
        .expect("remove succeeds");

    Expect::new("DELETE", "/v2/topics/my-group/endpoints")
        .json(json!({
            "endpoints": [ { "name": "a" }, { "url": "https://example.com/b" } ]
        }))
        .assert(&api.request().await);
}
