//! Setting a header, one way for the whole client.

use reqwest::header::{Entry, HeaderMap, HeaderName, HeaderValue};

/// Sets `name` to `value` alone, dropping any values it had, as
/// `HeaderMap::insert` does, but through the map's entry API, which the
/// crate uses wherever it tests a name before setting it. `HeaderMap`'s
/// lookup code is generic, so each way of reaching it is a copy of its
/// own in this crate, and a publish ran both: `insert` alone was 20 of
/// the 64-byte lines of code every publish runs (`benches/publish_cost.rs`
/// counts them), for three headers.
pub(crate) fn set(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue) {
    match headers.entry(name) {
        Entry::Occupied(mut taken) => {
            taken.insert(value);
        }
        Entry::Vacant(vacant) => {
            vacant.insert(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_every_value_of_the_name_and_keeps_the_others() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x-a", HeaderValue::from_static("2"));
        headers.append("x-b", HeaderValue::from_static("3"));
        set(
            &mut headers,
            HeaderName::from_static("x-a"),
            HeaderValue::from_static("4"),
        );
        set(
            &mut headers,
            HeaderName::from_static("x-c"),
            HeaderValue::from_static("5"),
        );
        let values = |name: &str| {
            headers
                .get_all(name)
                .iter()
                .map(|value| value.to_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(values("x-a"), ["4"]);
        assert_eq!(values("x-b"), ["3"]);
        assert_eq!(values("x-c"), ["5"]);
        assert_eq!(headers.len(), 3);
    }
}
