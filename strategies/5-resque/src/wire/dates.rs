//! Dates in the forms their readers parse. `run_at` (the working-on key) and `failed_at` (a
//! failed entry) hold JavaScript's `Date.toString()`, not ISO-8601: node-resque reads them
//! back with `Date.parse`, so that is the form to write. A worker's `started` holds Ruby's
//! `Time#to_s` and its heartbeat ISO-8601: node-resque never reads either, and resque-web
//! shows "NaN days ago" for anything else.

/// JavaScript's `new Date().toString()` in UTC, the `run_at`/`failed_at` format node-resque
/// writes (and `Date.parse` reads back).
pub fn js_date(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")
        .to_string()
}

/// Ruby's `Time#to_s` in UTC (`2026-11-27 18:37:03 +0000`), as Ruby Resque writes a
/// worker's `started`.
pub fn ruby_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S +0000").to_string()
}

/// ISO-8601 to the second (`2026-11-27T18:37:03+00:00`), as Ruby Resque writes a heartbeat.
pub fn iso_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// Reads node-resque's `Date.toString()` form, ISO-8601, or Ruby's `Time#to_s`.
pub fn parse_date(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(at.into());
    }
    if let Ok(at) = chrono::DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S %z") {
        return Some(at.into());
    }
    let without_zone_name = text.split(" (").next().unwrap_or(text);
    chrono::DateTime::parse_from_str(without_zone_name, "%a %b %d %Y %H:%M:%S GMT%z")
        .ok()
        .map(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_dates_round_trip() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-27T18:35:29Z")
            .unwrap()
            .into();
        let text = js_date(at);
        assert_eq!(
            text,
            "Fri Nov 27 2026 18:35:29 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(parse_date(&text), Some(at));
        assert_eq!(parse_date("2026-11-27T18:35:29Z"), Some(at));
        assert_eq!(ruby_time(at), "2026-11-27 18:35:29 +0000");
        assert_eq!(parse_date(&ruby_time(at)), Some(at));
        assert_eq!(iso_time(at), "2026-11-27T18:35:29+00:00");
        assert_eq!(parse_date(&iso_time(at)), Some(at));
    }
}
