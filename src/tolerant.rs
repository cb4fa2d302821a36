//! How the hand-written layer hands values to the generated code, so that
//! a newer spec (regenerated) still compiles against it.
//!
//! - Integers go in as [`Int`] or [`Ints`]. typify picks a parameter's or
//!   field's Rust type from its bounds and format: `minimum: 1` gives
//!   `NonZeroU64`, no bounds `i64`, `format: int32` `i32`, and so on.
//!   Upstream drops or changes those freely, and each change would be a
//!   compile error in a layer that passed `i64` or `NonZeroU64`. The
//!   generated setters take any `V: TryInto<T>`; `Int` and `Ints` implement
//!   that for every integer type typify generates (and its `Option`, for a
//!   struct field that becomes optional). A value the type cannot hold
//!   fails the call as `InvalidInput` before anything is sent.
//! - Request bodies are built field by field through typify's builders
//!   ([`build`], or the operation builder's `body_map`), never as struct
//!   literals, which stop compiling when the spec adds an optional field.
//! - Strings go in as `String`s, which convert into a string, an enum, or
//!   a constrained string type alike.
//! - Answers the layer does not return are not read
//!   (`send_ignoring_answer`, generated beside each `send` by
//!   `build/generate.rs`), and counts in answers are read as whatever
//!   integer type the spec gives them (`dlq::answer_count`).
//! - No enum of values QStash sends (`LogEntryState`, ...) is matched: they
//!   gain variants as the spec does. The publish answer's branches, which
//!   the corrections shape, are matched whole on purpose: a new branch
//!   would be a new kind of [`Published`](crate::messages::Published).

use std::borrow::Cow;
use std::fmt::Display;
use std::num::{NonZeroU8, NonZeroU16, NonZeroU32, NonZeroU64, TryFromIntError};

use crate::InvalidInput;

/// An integer for a generated setter; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Int(i128);

/// A list of integers for a generated setter (a repeated parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ints(Vec<Int>);

macro_rules! from_plain {
    ($($plain:ty),*) => {$(
        impl From<$plain> for Int {
            fn from(value: $plain) -> Int {
                Int(value.into())
            }
        }
    )*};
}

from_plain!(u16, u32, u64, i64);

impl<I: Into<Int>> FromIterator<I> for Ints {
    fn from_iter<T: IntoIterator<Item = I>>(values: T) -> Ints {
        Ints(values.into_iter().map(Into::into).collect())
    }
}

/// `TryFrom<Int>` for each type (a plain one from `i128`, a `NonZero` one
/// through its plain type), then for its `Option`, and `TryFrom<Ints>` for
/// its `Vec`.
macro_rules! into_generated {
    (plain: $($plain:ty),*; non_zero: $($non_zero:ty => $via:ty),* $(,)?) => {
        $(
            impl TryFrom<Int> for $plain {
                type Error = TryFromIntError;
                fn try_from(value: Int) -> Result<$plain, TryFromIntError> {
                    <$plain>::try_from(value.0)
                }
            }
        )*
        $(
            impl TryFrom<Int> for $non_zero {
                type Error = TryFromIntError;
                fn try_from(value: Int) -> Result<$non_zero, TryFromIntError> {
                    <$non_zero>::try_from(<$via>::try_from(value.0)?)
                }
            }
        )*
        into_generated!(@wrapped $($plain),*, $($non_zero),*);
    };
    (@wrapped $($target:ty),*) => {$(
        impl TryFrom<Int> for Option<$target> {
            type Error = TryFromIntError;
            fn try_from(value: Int) -> Result<Option<$target>, TryFromIntError> {
                <$target>::try_from(value).map(Some)
            }
        }

        impl TryFrom<Ints> for Vec<$target> {
            type Error = TryFromIntError;
            fn try_from(values: Ints) -> Result<Vec<$target>, TryFromIntError> {
                values.0.into_iter().map(<$target>::try_from).collect()
            }
        }
    )*};
}

// typify's integer types (typify-impl 0.8, `convert_integer`).
into_generated!(
    plain: i8, u8, i16, u16, i32, u32, i64, u64;
    non_zero: NonZeroU8 => u8, NonZeroU16 => u16, NonZeroU32 => u32, NonZeroU64 => u64,
);

/// A generated struct from its typify builder (`types::builder::X`). Fails
/// only if the spec made a field required that the layer does not set;
/// `field` names the value in the error.
pub(crate) fn build<B, T>(
    field: impl Into<Cow<'static, str>>,
    builder: B,
) -> Result<T, InvalidInput>
where
    T: TryFrom<B>,
    T::Error: Display,
{
    T::try_from(builder).map_err(|error| InvalidInput::new(field, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_into_every_integer_type_typify_generates() {
        assert_eq!(u8::try_from(Int::from(200u32)), Ok(200));
        assert_eq!(i32::try_from(Int::from(-5i64)), Ok(-5));
        assert_eq!(NonZeroU64::try_from(Int::from(3u32)).map(u64::from), Ok(3));
        assert_eq!(
            Option::<NonZeroU16>::try_from(Int::from(7u16)),
            Ok(NonZeroU16::new(7))
        );
        assert_eq!(
            Vec::<i16>::try_from(Ints::from_iter([500u16, 404])),
            Ok(vec![500, 404])
        );
    }

    #[test]
    fn refuses_what_the_type_cannot_hold() {
        assert!(NonZeroU32::try_from(Int::from(0u32)).is_err());
        assert!(u8::try_from(Int::from(256u32)).is_err());
        assert!(u64::try_from(Int::from(-1i64)).is_err());
        assert!(i32::try_from(Int::from(u64::MAX)).is_err());
        assert!(Vec::<u8>::try_from(Ints::from_iter([1u16, 300])).is_err());
    }
}
