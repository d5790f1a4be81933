//! The bodies a dashboard's forms send (`application/x-www-form-urlencoded`), decoded
//! strictly: a malformed escape or a field that is not UTF-8 is a 400, not a guess.

use crate::http::percent_decode;

/// The fields of one form body, in order. A name given twice keeps its first value.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Form {
    fields: Vec<(String, String)>,
}

impl Form {
    /// `a=1&b=two+words`; `Err` names the part that does not decode.
    pub fn parse(body: &[u8]) -> Result<Form, String> {
        let body = std::str::from_utf8(body).map_err(|_| "the form is not UTF-8".to_string())?;
        let mut fields = Vec::new();
        for pair in body.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            fields.push((decode(name)?, decode(value)?));
        }
        Ok(Form { fields })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    /// A field that must be there and be a whole number (`index=3`).
    pub fn integer(&self, name: &str) -> Result<i64, String> {
        let value = self
            .get(name)
            .ok_or_else(|| format!("the form has no field {name:?}"))?;
        value
            .trim()
            .parse()
            .map_err(|_| format!("field {name:?} must be a whole number, not {value:?}"))
    }

    /// A field that must be there and not be empty.
    pub fn text(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| format!("the form has no field {name:?}"))
    }
}

fn decode(part: &str) -> Result<String, String> {
    let bytes = percent_decode(&part.replace('+', " "))
        .ok_or_else(|| format!("{part:?} is not percent-encoded right"))?;
    String::from_utf8(bytes).map_err(|_| format!("{part:?} does not decode to UTF-8"))
}

/// Percent-encodes `text` for a query string (everything but letters, digits and `-._~`).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_and_bad_escapes_are_refused() {
        let form = Form::parse(b"token=ab12&index=3&note=two+words%21").unwrap();
        assert_eq!(form.get("token"), Some("ab12"));
        assert_eq!(form.integer("index"), Ok(3));
        assert_eq!(form.get("note"), Some("two words!"));
        assert!(form.integer("token").is_err());
        assert!(form.text("missing").is_err());
        assert!(Form::parse(b"index=%zz").is_err());
        assert!(Form::parse(b"index=%ff").is_err());
        assert!(Form::parse(&[b'a', b'=', 0xff]).is_err());
        assert_eq!(
            Form::parse(encode("a&b=c d").as_bytes())
                .unwrap()
                .get("a&b=c d"),
            Some("")
        );
    }
}
