//! Online-shop URLs (网络经营场所), normalised so one shop written two ways
//! is one premises: https, lower-case host without `www.`, no default port,
//! no fragment or credentials, tracking parameters dropped, the rest of the
//! query sorted, no trailing slash.
use super::{field_error::FieldError, text};

/// Query parameters that say how a visitor arrived, not which shop.
const TRACKING: &[&str] = &[
    "spm",
    "scm",
    "from",
    "share_crt_v",
    "sharefrom",
    "share_from",
    "ttid",
    "sourcetype",
    "suid",
    "un",
    "ut_sk",
    "app",
    "shareurl",
    "_t",
];

pub fn normalize(input: &str) -> Result<String, FieldError> {
    let raw = text::to_half_width(input.trim());
    let bad = || FieldError::new("", "invalid_url");
    if raw.len() > 500 || raw.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    let mut u = url::Url::parse(&raw).map_err(|_| bad())?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(bad());
    }
    let host = u.host_str().filter(|h| h.contains('.')).ok_or_else(bad)?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    let mut pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("utm_") && !TRACKING.contains(&k.as_str())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    u.set_fragment(None);
    u.set_username("").map_err(|_| bad())?;
    u.set_password(None).map_err(|_| bad())?;
    let mut path = u.path().trim_end_matches('/').to_string();
    if path.is_empty() {
        path = String::new();
    }
    let query = if pairs.is_empty() {
        String::new()
    } else {
        let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
        format!("?{}", q.join("&"))
    };
    let port = u.port().filter(|p| *p != 80 && *p != 443).map(|p| format!(":{p}")).unwrap_or_default();
    Ok(format!("https://{host}{port}{path}{query}"))
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shop_written_several_ways_is_one_url() {
        let canonical = "https://shop.example.com/item?id=123";
        for variant in [
            "https://shop.example.com/item?id=123",
            "http://shop.example.com/item?id=123",
            "HTTPS://SHOP.EXAMPLE.COM/item?id=123",
            "https://www.shop.example.com/item/?id=123",
            "https://shop.example.com:443/item?id=123#reviews",
            "https://shop.example.com/item?spm=a1.b2&id=123&utm_source=wx",
            "ｈｔｔｐｓ://shop.example.com/item?id=123",
            " https://shop.example.com/item?id=123 ",
        ] {
            assert_eq!(normalize(variant).unwrap(), canonical, "{variant}");
        }
    }

    #[test]
    fn different_shops_stay_different_and_junk_is_refused() {
        assert_ne!(
            normalize("https://shop.example.com/item?id=123").unwrap(),
            normalize("https://shop.example.com/item?id=124").unwrap()
        );
        assert_ne!(normalize("https://a.example.com/s").unwrap(), normalize("https://b.example.com/s").unwrap());
        assert_eq!(normalize("https://shop.example.com/").unwrap(), "https://shop.example.com");
        for bad in [
            "ftp://shop.example.com",
            "shop.example.com",
            "https://localhost/x",
            "javascript:alert(1)",
            "https://exa mple.com",
        ] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
    }
}
