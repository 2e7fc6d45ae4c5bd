//! Shared access signature (SAS) URIs of VM images: what makes two of them the same image, and
//! how one is shown. A SAS URI is generated anew for every upload script run, with a new
//! signature and validity window, so two URIs of the same blob differ in their query; and its
//! `sig` is a secret, shown nowhere (reprs, exceptions, logs, recordings), as the token is not.

use url::Url;

use crate::redact::MASK;

/// The query parameters of a service or account SAS: the signature, its validity and its scope
/// (storage's "Create a service SAS" and "Create a user delegation SAS" pages). Two URIs that
/// differ only in these name the same blob.
const SIGNATURE_PARAMS: &[&str] = &[
    "sig", "st", "se", "sv", "sp", "sr", "spr", "si", "sip", "ss", "srt", "sdd", "ses", "skoid", "sktid",
    "skt", "ske", "sks", "skv", "saoid", "suoid", "scid", "rscc", "rscd", "rsce", "rscl", "rsct",
];

/// The parameters whose value is a secret: the signature itself.
const SECRET_PARAMS: &[&str] = &["sig"];

fn is_signature_param(name: &str) -> bool {
    SIGNATURE_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name))
}

fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name))
}

/// Whether `a` and `b` name the same image: the same scheme, host, port and path (the blob), and
/// the same query parameters apart from the SAS ones, in any order. Text that is not a URL is
/// the same only as itself.
pub fn same_image_uri(a: &str, b: &str) -> bool {
    match (Url::parse(a.trim()), Url::parse(b.trim())) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
                && a.port_or_known_default() == b.port_or_known_default()
                && a.path() == b.path()
                && other_params(&a) == other_params(&b)
        }
        _ => a.trim() == b.trim(),
    }
}

/// The query's parameters that are not part of a SAS, sorted.
fn other_params(url: &Url) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !is_signature_param(name))
        .map(|(n, v)| (n.into(), v.into()))
        .collect();
    params.sort();
    params
}

/// `uri` with the value of its signature (`sig`, in any case) replaced by `***`, the token's
/// mask: everything else is kept as written, so the blob and the validity stay readable. Text
/// without a query is returned as it is.
pub fn redact(uri: &str) -> String {
    let Some((head, rest)) = uri.split_once('?') else {
        return uri.to_owned();
    };
    let (query, fragment) = match rest.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (rest, None),
    };
    let query = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_param(name) => format!("{name}={MASK}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&");
    match fragment {
        Some(fragment) => format!("{head}?{query}#{fragment}"),
        None => format!("{head}?{query}"),
    }
}

/// Every SAS signature in `text` (a request body, a log line, a message) replaced by `***`:
/// the value after each `sig=` up to the next `&`, `"`, whitespace or end, in the forms a URI
/// takes inside JSON or a URL (`sig=`, `sig%3D`).
pub fn redact_signatures(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = next_sig(&lower, search) {
        let (name_at, value_at) = found;
        // Only a parameter: `sig` right after `?` or `&` (or its encoded forms).
        let before = lower.get(..name_at).unwrap_or_default();
        let starts_param = before.ends_with('?')
            || before.ends_with('&')
            || before.ends_with("%26")
            || before.ends_with("%3f")
            || before.ends_with("\\u0026");
        let end = value_end(text, value_at);
        if starts_param && end > value_at {
            out.push_str(text.get(copied..value_at).unwrap_or_default());
            out.push_str(MASK);
            copied = end;
        }
        search = end.max(value_at);
    }
    if copied == 0 {
        return text.to_owned();
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// The next `sig=` (or `sig%3d`) at or after `from`: where its name starts and its value starts.
fn next_sig(lower: &str, from: usize) -> Option<(usize, usize)> {
    let rest = lower.get(from..)?;
    let plain = rest.find("sig=").map(|at| (from + at, from + at + 4));
    let encoded = rest.find("sig%3d").map(|at| (from + at, from + at + 6));
    match (plain, encoded) {
        (Some(p), Some(e)) => Some(if p.0 <= e.0 { p } else { e }),
        (p, e) => p.or(e),
    }
}

/// Where a parameter's value that starts at `start` ends.
fn value_end(text: &str, start: usize) -> usize {
    let rest = text.get(start..).unwrap_or_default();
    let mut end = rest.len();
    for (at, c) in rest.char_indices() {
        if c == '&' || c == '"' || c == '\'' || c == '#' || c == '\\' || c == '<' || c.is_whitespace() {
            end = at;
            break;
        }
        if rest
            .get(at..)
            .is_some_and(|r| r.len() >= 3 && r.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("%26")))
        {
            end = at;
            break;
        }
    }
    start + end
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "https://contoso.blob.core.windows.net/vhds/image.vhd?sv=2021-08-06&st=2024-01-01T00%3A00%3A00Z&se=2024-02-01T00%3A00%3A00Z&sr=b&sp=r&sig=AbC%2Bd%2Fe%3D";
    const B: &str = "https://CONTOSO.blob.core.windows.net/vhds/image.vhd?sp=rl&sig=other&sv=2022-11-02&se=2025-01-01&sr=b";

    #[test]
    fn a_sas_differing_only_in_its_signature_params_is_the_same_image() {
        assert!(same_image_uri(A, B));
        assert!(same_image_uri(A, "https://contoso.blob.core.windows.net/vhds/image.vhd"));
        assert!(same_image_uri(A, "https://contoso.blob.core.windows.net:443/vhds/image.vhd?SIG=x"));
    }

    #[test]
    fn another_blob_host_scheme_or_other_param_is_another_image() {
        assert!(!same_image_uri(A, "https://contoso.blob.core.windows.net/vhds/image2.vhd?sig=x"));
        assert!(!same_image_uri(A, "https://fabrikam.blob.core.windows.net/vhds/image.vhd?sig=x"));
        assert!(!same_image_uri(A, "http://contoso.blob.core.windows.net/vhds/image.vhd?sig=x"));
        assert!(!same_image_uri(A, "https://contoso.blob.core.windows.net/vhds/image.vhd?snapshot=1&sig=x"));
        assert!(same_image_uri(
            "https://h/p?snapshot=1&b=2&sig=x",
            "https://h/p?b=2&snapshot=1&sig=y&se=2030-01-01"
        ));
        assert!(same_image_uri("not a url", " not a url "));
        assert!(!same_image_uri("not a url", "not a url either"));
    }

    #[test]
    fn redact_masks_the_signature_and_keeps_the_rest() {
        assert_eq!(
            redact(A),
            "https://contoso.blob.core.windows.net/vhds/image.vhd?sv=2021-08-06&st=2024-01-01T00%3A00%3A00Z&se=2024-02-01T00%3A00%3A00Z&sr=b&sp=r&sig=***"
        );
        assert_eq!(redact("https://h/p?Sig=abc#f"), "https://h/p?Sig=***#f");
        assert_eq!(redact("https://h/p"), "https://h/p");
        assert_eq!(redact("https://h/p?design=1"), "https://h/p?design=1");
    }

    #[test]
    fn signatures_inside_any_text_are_masked() {
        let body = format!(r#"{{"osDisk": {{"uri": "{A}"}}, "b": "https://h/p?sp=r&SIG=zz"}}"#);
        let out = redact_signatures(&body);
        assert!(!out.contains("AbC%2Bd%2Fe%3D") && !out.contains("zz"), "{out}");
        assert!(out.contains("&sig=***\"") && out.contains("SIG=***"), "{out}");
        let encoded = "uri=https%3A%2F%2Fh%2Fp%3Fsp%3Dr%26sig%3DSECRET%26se%3D1";
        assert_eq!(redact_signatures(encoded), "uri=https%3A%2F%2Fh%2Fp%3Fsp%3Dr%26sig%3D***%26se%3D1");
        let untouched = "design=1 and signature=2 and ?sig=";
        assert_eq!(redact_signatures(untouched), untouched);
    }
}
