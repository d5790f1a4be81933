//! A client for the strategies' `/dashboard` pages that behaves as a browser does where it
//! matters to the guard: it keeps the session cookie a page sets, and an action sends the
//! token of the last page it read (the hidden `token` field), as a form, with this server's
//! own `Origin`. Each request is one plain HTTP/1.1 exchange, so a test can also send what a
//! browser would not (no token, another origin, a malformed form).

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One answer: status, headers (lower-case names) and body.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The number on the page's tile labelled `label` (`kit::dashboard::widgets::tiles`).
    pub fn tile(&self, label: &str) -> Option<String> {
        let end = self.body.find(&format!("</b><span>{label}</span>"))?;
        let start = self.body[..end].rfind("<b>")? + "<b>".len();
        Some(self.body[start..end].to_owned())
    }

    /// The hidden fields of the first form on the page that posts to `action`, in order.
    pub fn form_fields(&self, action: &str) -> Vec<(String, String)> {
        let Some(start) = self.body.find(&format!("action=\"{action}\"")) else {
            return Vec::new();
        };
        let end = self.body[start..]
            .find("</form>")
            .map_or(self.body.len(), |e| start + e);
        self.body[start..end]
            .split("<input type=\"hidden\" ")
            .skip(1)
            .filter_map(|input| {
                let name = input.strip_prefix("name=\"")?.split('"').next()?;
                let value = input.split("value=\"").nth(1)?.split('"').next()?;
                Some((name.to_owned(), value.to_owned()))
            })
            .collect()
    }

    /// The value of the first `<input ... name="NAME" value="...">` on the page.
    pub fn hidden_field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')?;
        Some(self.body[start..start + end].to_owned())
    }
}

/// A browser's view of one dashboard: its base URL and the cookies it was given.
pub struct DashboardClient {
    authority: String,
    cookies: Vec<(String, String)>,
    token: Option<String>,
}

impl DashboardClient {
    /// `base` is the web front's URL, `http://127.0.0.1:PORT`.
    pub fn new(base: &str) -> DashboardClient {
        let authority = base
            .strip_prefix("http://")
            .unwrap_or(base)
            .trim_end_matches('/')
            .to_owned();
        DashboardClient {
            authority,
            cookies: Vec::new(),
            token: None,
        }
    }

    /// `GET path`, keeping its cookies and the token of its action forms.
    pub async fn get(&mut self, path: &str) -> Page {
        let page = self.send("GET", path, &[], "").await;
        if let Some(token) = page.hidden_field("token") {
            self.token = Some(token);
        }
        page
    }

    /// An action as the page's form sends it: `token` and `fields`, form-encoded.
    pub async fn act(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut body = format!("token={}", self.token.clone().unwrap_or_default());
        for (name, value) in fields {
            body.push_str(&format!("&{name}={value}"));
        }
        self.post_form(path, &body).await
    }

    /// Presses the button of the first form on `page` that posts to `action`, as a browser
    /// does: its hidden fields (the token among them), form-encoded.
    pub async fn submit(&mut self, page: &Page, action: &str) -> Page {
        let body = encode_form(&page.form_fields(action));
        self.post_form(action, &body).await
    }

    /// A form POST with exactly this body (and this browser's cookies and origin).
    pub async fn post_form(&mut self, path: &str, body: &str) -> Page {
        let origin = format!("http://{}", self.authority);
        let headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", origin.as_str()),
        ];
        self.send("POST", path, &headers, body).await
    }

    /// One request with these headers besides `Host`, the cookies and `Content-Length`.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Page {
        let mut stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .expect("connect to the web front");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.authority
        );
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            request.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream
            .write_all(request.as_bytes())
            .await
            .expect("send the request");
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .await
            .expect("read the answer");
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        for (_, cookie) in headers.iter().filter(|(n, _)| n == "set-cookie") {
            if let Some((name, value)) = cookie.split(';').next().and_then(|c| c.split_once('=')) {
                self.cookies.retain(|(n, _)| n != name);
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        Page {
            status,
            headers,
            body: body.to_owned(),
        }
    }
}

/// `a=1&b=two%20words`: fields as a form sends them (HTML-escaped values decoded first).
pub fn encode_form(fields: &[(String, String)]) -> String {
    let pairs: Vec<String> = fields
        .iter()
        .map(|(name, value)| {
            let value = value
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            format!("{name}={}", kit::dashboard::form::encode(&value))
        })
        .collect();
    pairs.join("&")
}
