//! Serde helpers for the two date encodings (values are epoch milliseconds in Rust).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Formats epoch milliseconds the way JavaScript's `Date.prototype.toISOString` does
/// (`YYYY-MM-DDTHH:MM:SS.sssZ`); `None` when out of chrono's range.
pub fn format_iso(ms: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Parses an RFC 3339 / ISO-8601 date-time with an offset into epoch milliseconds.
pub fn parse_iso(s: &str) -> Result<i64, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.timestamp_millis())
        .map_err(|e| format!("invalid ISO-8601 date {s:?}: {e}"))
}

/// `#[serde(with = "iso")]`: epoch milliseconds encoded as an ISO-8601 string (event args).
pub mod iso {
    use super::*;

    /// Serializes epoch milliseconds as an ISO-8601 string.
    pub fn serialize<S: Serializer>(ms: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        let s = format_iso(*ms)
            .ok_or_else(|| serde::ser::Error::custom(format!("date {ms} ms out of range")))?;
        serializer.serialize_str(&s)
    }

    /// Deserializes an ISO-8601 string into epoch milliseconds (a number is rejected).
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        let s = String::deserialize(deserializer)?;
        parse_iso(&s).map_err(serde::de::Error::custom)
    }
}

/// Serde helpers for `Option<Option<T>>`: absent (`None`) vs explicit `null` (`Some(None)`).
/// Use with `#[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]`.
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serializes `Some(v)` as `v` (`Some(None)` as `null`); `None` must be skipped by the field.
    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    /// A present field (even `null`) becomes `Some(..)`; an absent one stays `None` via `default`.
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}
