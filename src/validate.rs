//! Input checks that run before anything is sent. Each refusal names the field and shows the
//! value (escaped with `{:?}`, so control characters are visible) — except tokens, which are
//! never shown.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use url::{Host, Url};

use crate::error::{Error, Result};

const MAX_ID_LEN: usize = 256;
const MAX_EMAIL_LEN: usize = 254;
const MAX_EMAILS: usize = 100;

/// Any id sent as one path segment: a publisher, an offer, an offer type, a product's external
/// id. The service owns its id formats, so no alphabet is imposed; what is refused is only what
/// would change the request's meaning: empty or over-long text, the dot segments `.` and `..`,
/// `/`, `?`, `#`, whitespace and control characters, and `\` and `%` (a proxy or server that
/// takes `\` for `/`, or decodes a path twice, would read another path). Each kind of id builds
/// on this one rule (`ingestion::ids` for the ingestion API's).
pub fn id(field: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(Error::invalid(field, format!("is longer than {MAX_ID_LEN} characters")));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid(field, format!("{value:?} is not an id")));
    }
    if let Some(bad) = value.chars().find(|&c| changes_the_path(c)) {
        return Err(Error::invalid(
            field,
            format!("{value:?} contains {bad:?}, which an id sent in a URL path cannot hold"),
        ));
    }
    Ok(())
}

fn changes_the_path(c: char) -> bool {
    matches!(c, '/' | '?' | '#' | '\\' | '%') || c.is_whitespace() || c.is_control()
}

/// Split, trim, de-duplicate (keeping first occurrences in order, letter case aside) and check
/// notification addresses. Each item may itself hold several comma-separated addresses. At most
/// `MAX_EMAILS` may be given, counted before anything else is done with them; the rest is linear,
/// so a refusal of 100,000 addresses is as quick as one of 101.
pub fn emails<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>> {
    let given: Vec<&str> =
        items.into_iter().flat_map(|item| item.split(',')).map(str::trim).filter(|a| !a.is_empty()).collect();
    if given.len() > MAX_EMAILS {
        return Err(Error::invalid(
            "emails",
            format!("{} addresses given; at most {MAX_EMAILS}", given.len()),
        ));
    }
    let mut seen = HashSet::with_capacity(given.len());
    let mut out = Vec::with_capacity(given.len());
    for address in given {
        email(address)?;
        if seen.insert(address.to_ascii_lowercase()) {
            out.push(address.to_owned());
        }
    }
    Ok(out)
}

/// One address in the plain `local@domain.tld` form. Quoted local parts and comments are refused:
/// the service takes the addresses as one comma-separated string, so the simple form is the only
/// one that survives that unambiguously.
pub fn email(address: &str) -> Result<()> {
    let bad =
        |why: &str| Err(Error::invalid("emails", format!("{address:?} is not an e-mail address: {why}")));
    if address.len() > MAX_EMAIL_LEN {
        return bad("too long");
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return bad("no '@'");
    };
    let local_ok = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-.".contains(c);
    if local.is_empty() || local.len() > 64 || !local.chars().all(local_ok) {
        return bad("the part before '@' is empty or has characters not allowed there");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return bad("misplaced '.' before '@'");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return bad("the domain is not a host name like contoso.com");
    }
    Ok(())
}

/// A bearer token that passed the checks of `token`: what follows `Bearer ` on the wire. Its
/// `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(raw: &str) -> Result<Self> {
        token(raw).map(|t| Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// The bearer token, with a leading `Bearer ` (any case) removed so it is never doubled.
/// Refuses whitespace and control characters, which could split or inject headers.
fn token(raw: &str) -> Result<&str> {
    let trimmed = raw.trim();
    let token = match trimmed.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => trimmed.get(7..).unwrap_or("").trim_start(),
        _ => trimmed,
    };
    if token.is_empty() || token.eq_ignore_ascii_case("bearer") {
        return Err(Error::invalid("token", "is empty"));
    }
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::invalid(
            "token",
            "contains whitespace, control or non-ASCII characters (the value is not shown)",
        ));
    }
    Ok(token)
}

/// The service root: http(s), a host, no credentials, query or fragment; plain http only to a
/// loopback host, so a bearer token never travels in clear text over a network.
pub fn base_url(raw: &str) -> Result<Url> {
    let mut url = Url::parse(raw.trim())
        .map_err(|e| Error::invalid("base_url", format!("{raw:?} is not a URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::invalid(
                "base_url",
                format!(
                    "{raw:?} uses plain http to a non-loopback host; use https (the token must not travel in clear text)"
                ),
            ));
        }
        other => {
            return Err(Error::invalid("base_url", format!("{raw:?} has scheme {other:?}; expected https")));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid("base_url", "must not carry a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid("base_url", format!("{raw:?} must not have a query or fragment")));
    }
    // Keep a path prefix (a proxy mount point) but drop the trailing slash so joining is uniform.
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

/// True for `localhost`, 127.0.0.0/8 and ::1.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A timeout in seconds: finite and above zero.
pub fn timeout(field: &'static str, seconds: f64) -> Result<Duration> {
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 86_400.0 {
        return Err(Error::invalid(field, format!("{seconds} is not a number of seconds in (0, 86400]")));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// An API version as the services name them: a date, optionally with a suffix
/// (`2017-10-31`, `2022-07-01`, `2022-03-01-preview5`).
pub fn version(value: &str) -> Result<()> {
    let (date, suffix) = (value.get(..10).unwrap_or(""), value.get(10..).unwrap_or(""));
    let date_ok = date.len() == 10
        && date.char_indices().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
    let suffix_ok = suffix.is_empty()
        || (suffix.len() <= 21
            && suffix.starts_with('-')
            && suffix.len() > 1
            && suffix.chars().skip(1).all(|c| c.is_ascii_alphanumeric()));
    if !(date_ok && suffix_ok) {
        return Err(Error::invalid(
            "version",
            format!("{value:?} is not an API version like 2022-07-01 or 2022-03-01-preview5"),
        ));
    }
    Ok(())
}

/// A User-Agent prefix: printable ASCII, no control characters.
pub fn user_agent(value: &str) -> Result<()> {
    if value.is_empty() || value.len() > 256 || !value.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
        return Err(Error::invalid(
            "user_agent",
            format!("{value:?} must be 1 to 256 printable ASCII characters"),
        ));
    }
    Ok(())
}

/// A VM image version number: `N.N.N`, three runs of digits (the ingestion schema's
/// `versionNumber`; the CPP API's version keys, such as `2024.01.15`, have the same shape).
pub fn image_version(value: &str) -> Result<()> {
    let parts: Vec<&str> = value.split('.').collect();
    let ok = value.len() <= 64
        && parts.len() == 3
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return Err(Error::invalid(
            "version",
            format!("{value:?} is not a version number like 1.0.0 (N.N.N, digits)"),
        ));
    }
    Ok(())
}

/// An image's SAS URI: https, a host, and a signature (`sig`). The refusal shows the URI with
/// its signature masked (`sas::redact`).
pub fn sas_uri(value: &str) -> Result<()> {
    let shown = crate::sas::redact(value);
    let url = Url::parse(value.trim()).map_err(|e| match value.to_ascii_lowercase().contains("sig") {
        // Not a URL, so its signature cannot be told apart: it is not shown at all.
        true => Error::invalid(
            "sas_uri",
            format!("is not a URL ({e}; the value is not shown: it may hold a signature)"),
        ),
        false => Error::invalid("sas_uri", format!("{shown:?} is not a URL ({e})")),
    })?;
    if url.scheme() != "https" || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid("sas_uri", format!("{shown:?} is not an https URL")));
    }
    if !url.query_pairs().any(|(name, v)| name.eq_ignore_ascii_case("sig") && !v.is_empty()) {
        return Err(Error::invalid(
            "sas_uri",
            format!("{shown:?} has no signature (sig): the service cannot read the image without one"),
        ));
    }
    Ok(())
}

/// The most data disks an image version may have (the ingestion schema's bound).
pub const MAX_DATA_DISKS: usize = 16;

/// An image version's data disks, `(LUN, SAS URI)` each: at most `MAX_DATA_DISKS`, each LUN
/// once, each URI a SAS URI (`sas_uri`; refused as `data_disks`).
pub fn data_disks(disks: &[(u32, String)]) -> Result<()> {
    if disks.len() > MAX_DATA_DISKS {
        return Err(Error::invalid("data_disks", format!("{} given; at most {MAX_DATA_DISKS}", disks.len())));
    }
    for (at, (lun, uri)) in disks.iter().enumerate() {
        if disks.iter().take(at).any(|(other, _)| other == lun) {
            return Err(Error::invalid("data_disks", format!("LUN {lun} is given twice")));
        }
        sas_uri(uri).map_err(|e| match e {
            Error::InvalidArgument { reason, .. } => Error::invalid("data_disks", reason),
            other => other,
        })?;
    }
    Ok(())
}

/// An Azure Compute Gallery image version's resource id:
/// `/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/galleries/<g>/images/<i>/versions/<v>`
/// (names in any letter case, as Azure resource ids are).
pub fn gallery_image_id(value: &str) -> Result<()> {
    const SHAPE: [Option<&str>; 12] = [
        Some("subscriptions"),
        None,
        Some("resourcegroups"),
        None,
        Some("providers"),
        Some("microsoft.compute"),
        Some("galleries"),
        None,
        Some("images"),
        None,
        Some("versions"),
        None,
    ];
    let segments: Vec<&str> = value.strip_prefix('/').unwrap_or("").split('/').collect();
    let ok = value.len() <= 1024
        && segments.len() == SHAPE.len()
        && segments.iter().zip(SHAPE).all(|(segment, wanted)| match wanted {
            Some(name) => segment.eq_ignore_ascii_case(name),
            None => id("gallery_image", segment).is_ok(),
        });
    if !ok {
        return Err(Error::invalid(
            "gallery_image",
            format!(
                "{value:?} is not a gallery image version id like /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/galleries/<gallery>/images/<image>/versions/<version>"
            ),
        ));
    }
    Ok(())
}

/// The image types a VM image version can hold, as the ingestion schema spells them.
pub const IMAGE_TYPES: [&str; 3] = ["x64Gen1", "x64Gen2", "arm64Gen2"];

/// One of `IMAGE_TYPES`, as spelled there.
pub fn image_type(value: &str) -> Result<()> {
    if !IMAGE_TYPES.contains(&value) {
        return Err(Error::invalid(
            "image_types",
            format!("{value:?} is not an image type; expected one of {}", IMAGE_TYPES.join(", ")),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_dates_with_an_optional_suffix() {
        for ok in ["2017-10-31", "2022-07-01", "2022-03-01-preview5"] {
            assert_eq!(version(ok), Ok(()), "{ok}");
        }
        for bad in ["", "2022-7-1", "2022-07-01-", "2022-07-01&x=1", "2022-07-01 ", "latest", "2022/07/01"] {
            assert!(version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_accept_any_text_that_stays_one_path_segment() {
        for ok in ["contoso", "contoso-virtualmachineoffer", "a_b.c-1", "A9", "..a", "é", "a+b", "x:y", "a'b"]
        {
            assert_eq!(id("offer", ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn ids_refuse_path_and_control_characters_naming_the_value() {
        for bad in
            ["", ".", "..", "a/b", "a?b", "a#b", "a b", "a\nb", "a\tb", "a\u{a0}b", "a%2Fb", "a\\b", "\u{7f}"]
        {
            let err = id("publisher", bad).expect_err(bad);
            let text = err.to_string();
            assert!(text.starts_with("invalid publisher"), "{text}");
            if !bad.is_empty() {
                assert!(text.contains(&format!("{bad:?}")), "{text}");
            }
        }
        assert!(id("offer", &"a".repeat(257)).is_err());
    }

    #[test]
    fn emails_are_split_trimmed_deduplicated_in_order() {
        let got = emails(["b@contoso.com, a@contoso.com", " ", "B@contoso.com", "c@x.io,,"]).expect("valid");
        assert_eq!(got, ["b@contoso.com", "a@contoso.com", "c@x.io"]);
        assert_eq!(emails(Vec::<&str>::new()), Ok(vec![]));
    }

    #[test]
    fn more_than_the_most_addresses_are_refused_by_count_before_anything_else() {
        let count_error = Err(Error::invalid("emails", "101 addresses given; at most 100"));
        // The same address 101 times: counted as given, not after de-duplication.
        assert_eq!(emails(vec!["a@contoso.com"; MAX_EMAILS + 1]), count_error);
        // Invalid ones too: the count comes before each address is checked.
        assert_eq!(emails(vec!["not an address"; MAX_EMAILS + 1]), count_error);
        let many: Vec<String> = (0..100_000).map(|i| format!("u{i}@contoso.com")).collect();
        let started = std::time::Instant::now();
        let err = emails(many.iter().map(String::as_str)).unwrap_err();
        assert_eq!(err, Error::invalid("emails", "100000 addresses given; at most 100"));
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    }

    #[test]
    fn malformed_emails_are_refused_by_value() {
        for bad in [
            "jondoe",
            "@contoso.com",
            "jon@",
            "jon@contoso",
            "jon doe@contoso.com",
            "a..b@c.com",
            "a@-c.com",
            "a@c..com",
            "\"a,b\"@c.com",
            "a@c.com\r\nBcc: x@y.z",
            "a@b@c.com",
        ] {
            let err = emails([bad]).expect_err(bad);
            assert!(matches!(err, Error::InvalidArgument { field: "emails", .. }), "{bad}");
        }
    }

    #[test]
    fn token_strips_one_bearer_prefix_and_refuses_injection_without_echoing() {
        assert_eq!(token("abc.def"), Ok("abc.def"));
        assert_eq!(token("Bearer abc"), Ok("abc"));
        assert_eq!(token("bearer   abc"), Ok("abc"));
        for bad in ["", "   ", "Bearer ", "ab c", "abc\r\nX-Evil: 1", "abc\u{7f}", "tök"] {
            let err = token(bad).expect_err(bad);
            let text = err.to_string();
            assert!(text.starts_with("invalid token"));
            if bad.trim().len() > 2 {
                assert!(!text.contains(bad.trim()), "token echoed: {text}");
            }
        }
    }

    #[test]
    fn base_url_rules() {
        assert_eq!(
            base_url("https://cloudpartner.azure.com/").map(String::from),
            Ok("https://cloudpartner.azure.com/".into())
        );
        assert_eq!(base_url("https://proxy.example/cpp/").map(|u| u.path().to_owned()), Ok("/cpp".into()));
        for ok in ["http://127.0.0.1:8080", "http://localhost", "http://[::1]:9", "http://127.9.9.9"] {
            assert!(base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ftp://x.com",
            "http://cloudpartner.azure.com",
            "http://10.0.0.1",
            "not a url",
            "https://u:p@x.com",
            "https://x.com/?a=1",
            "https://x.com/#f",
            "file:///etc/passwd",
        ] {
            let err = base_url(bad).expect_err(bad);
            assert!(matches!(err, Error::InvalidArgument { field: "base_url", .. }), "{bad}");
        }
    }

    #[test]
    fn timeouts_must_be_positive_and_finite() {
        assert!(timeout("timeout", 0.5).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(timeout("timeout", bad).is_err());
        }
    }
    #[test]
    fn image_versions_are_three_runs_of_digits() {
        for ok in ["1.0.0", "2024.01.15", "9.0.20230404"] {
            assert_eq!(image_version(ok), Ok(()), "{ok}");
        }
        for bad in ["", "1.0", "1.0.0.0", "v1.0.0", "1..0", "1.0.a", " 1.0.0", "1.0.0-beta", "١.0.0"] {
            let text = image_version(bad).expect_err(bad).to_string();
            assert!(text.starts_with("invalid version") && text.contains(&format!("{bad:?}")), "{text}");
        }
    }

    #[test]
    fn sas_uris_need_https_and_a_signature_and_refusals_never_show_it() {
        assert_eq!(sas_uri("https://a.blob.core.windows.net/c/i.vhd?sv=1&sig=SECRET"), Ok(()));
        for bad in [
            "http://a.blob.core.windows.net/c/i.vhd?sig=SECRET",
            "https://a.blob.core.windows.net/c/i.vhd?sv=1",
            "https://a.blob.core.windows.net/c/i.vhd?sig=",
            "ftp://a/b?sig=SECRET",
            "not a url sig=SECRET",
        ] {
            let text = sas_uri(bad).expect_err(bad).to_string();
            assert!(text.starts_with("invalid sas_uri"), "{text}");
            assert!(!text.contains("SECRET"), "{text}");
        }
    }

    #[test]
    fn data_disks_are_at_most_sixteen_sas_uris_each_lun_once() {
        let disk = |lun: u32| (lun, "https://a.blob.core.windows.net/c/d.vhd?sig=SECRET".to_owned());
        assert_eq!(data_disks(&[disk(0), disk(3)]), Ok(()));
        let too_many: Vec<_> = (0..17).map(disk).collect();
        for (bad, says) in [
            (too_many, "17 given"),
            (vec![disk(1), disk(1)], "LUN 1 is given twice"),
            (vec![(0, "https://a/d.vhd".to_owned())], "no signature"),
        ] {
            let text = data_disks(&bad).expect_err(says).to_string();
            assert!(
                text.starts_with("invalid data_disks") && text.contains(says) && !text.contains("SECRET"),
                "{text}"
            );
        }
    }

    #[test]
    fn gallery_ids_are_image_version_resource_ids() {
        let ok = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0";
        assert_eq!(gallery_image_id(ok), Ok(()));
        assert_eq!(gallery_image_id(&ok.to_lowercase()), Ok(()));
        for bad in [
            "",
            "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i",
            "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/galleries/g/images/i/versions/1",
            "subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1",
            "/subscriptions//resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1",
        ] {
            let text = gallery_image_id(bad).expect_err(bad).to_string();
            assert!(
                text.starts_with("invalid gallery_image") && text.contains(&format!("{bad:?}")),
                "{text}"
            );
        }
    }

    #[test]
    fn image_types_are_the_schemas_three() {
        for ok in IMAGE_TYPES {
            assert_eq!(image_type(ok), Ok(()));
        }
        for bad in ["x64gen2", "Gen2", "", "arm64Gen1"] {
            assert!(image_type(bad).expect_err(bad).to_string().contains(&format!("{bad:?}")));
        }
    }
}
