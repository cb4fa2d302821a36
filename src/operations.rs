//! The operations of the spec this crate was generated from: for each, how
//! safe it is to send again and what a request must carry.
//!
//! The rows come from `build/operation_names.rs`, written by `build.rs` for
//! the operations the spec has (an operation without a row is retried only
//! if it is a `GET`). The retry loop (`retry.rs`) and the request checks
//! (`hooks.rs`) look operations up here by the name progenitor passes them.

/// How safe an operation is to send again once it may have reached QStash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// A read, or a call that sets state a repeat leaves as it was.
    Repeatable,
    /// Publishing, made repeatable by one deduplication id per call.
    Deduplicated,
    /// Not to be repeated once it may have arrived, unless the request
    /// carries the header named here (lower case).
    Once { unless: Option<&'static str> },
}

/// What a request of the operation must carry before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    /// Nothing beyond its path parameters.
    None,
    /// Ids or a filter: with neither, QStash applies it to every message.
    AllWhenUnfiltered,
}

/// One operation of the spec.
#[derive(Debug)]
pub(crate) struct Operation {
    /// Its name, as progenitor's `OperationInfo::operation_id`.
    pub name: &'static str,
    /// Its path template, as in the spec (`/v2/messages/{messageId}`).
    pub path: &'static str,
    pub retry: Retry,
    pub guard: Guard,
}

include!(concat!(env!("OUT_DIR"), "/operations.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_found_by_its_name() {
        // However many operations the spec being built has (a newer one
        // may add some: tests/spec_mutations.rs).
        assert!(!OPERATIONS.is_empty());
        for operation in OPERATIONS {
            assert!(std::ptr::eq(find(operation.name).unwrap(), operation));
        }
        assert!(find("an_operation_from_a_newer_spec").is_none());
    }

    #[test]
    fn classes_come_from_the_table() {
        let retry = |name| find(name).unwrap().retry;
        assert_eq!(retry("publish_message"), Retry::Deduplicated);
        assert_eq!(retry("batch_messages"), Retry::Deduplicated);
        assert_eq!(
            retry("create_schedule"),
            Retry::Once {
                unless: Some("upstash-schedule-id")
            }
        );
        assert_eq!(retry("rotate_signing_keys"), Retry::Once { unless: None });
        assert_eq!(retry("cancel_message"), Retry::Repeatable);
        let mut guarded: Vec<_> = OPERATIONS
            .iter()
            .filter(|operation| operation.guard == Guard::AllWhenUnfiltered)
            .map(|operation| operation.name)
            .collect();
        guarded.sort_unstable();
        assert_eq!(
            guarded,
            [
                "cancel_messages",
                "delete_dlq_messages",
                "retry_dlq_messages"
            ]
        );
    }
}
