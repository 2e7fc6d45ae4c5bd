//! Removing the bearer token from what a service sent back, in every form an echo takes: as
//! sent, percent-encoded (`%2B`, `%2f`: a URL or a query echoed), form-decoded (`+` read as a
//! space), and JSON-escaped (`\/`, `\u002B`). Applied wherever an answer's text is kept: the
//! exceptions' body, message and location, and the recordings.

/// Tokens shorter than this are not redacted: real bearer tokens are hundreds of characters, and
/// blanking a short test value would garble the service's messages.
pub const MIN_REDACTED_LEN: usize = 8;

/// What stands in for the token.
pub const MASK: &str = "***";

/// `text` without its secrets: every echo of `token` (`redact`) and every SAS signature
/// (`sas::redact_signatures`: an image URI a request carried, echoed back) become `***`. What
/// keeps an answer's or a request's text (exceptions, recordings) calls this.
pub fn secrets(text: String, token: &str) -> String {
    let text = redact(text, token);
    if text.contains("sig") || text.contains("SIG") || text.contains("Sig") {
        crate::sas::redact_signatures(&text)
    } else {
        text
    }
}

/// `text` with every copy of `token`, in any of the forms above, replaced by `***`.
pub fn redact(text: String, token: &str) -> String {
    let token = token.as_bytes();
    if token.len() < MIN_REDACTED_LEN || text.len() < token.len() {
        return text;
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut at) = (0, 0);
    while at < bytes.len() {
        match echo_at(bytes, at, token) {
            Some(end) => {
                // Matches start and end on ASCII bytes, so the slices stay on char boundaries.
                out.push_str(text.get(copied..at).unwrap_or_default());
                out.push_str(MASK);
                copied = end;
                at = end;
            }
            None => at += 1,
        }
    }
    if copied == 0 {
        return text;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// Where an echo of `token` that starts at `start` ends, if one does.
fn echo_at(text: &[u8], start: usize, token: &[u8]) -> Option<usize> {
    let mut at = start;
    for &wanted in token {
        at = one_char(text, at, wanted)?;
    }
    Some(at)
}

/// Past `wanted` at `at`, in whichever form it was written.
fn one_char(text: &[u8], at: usize, wanted: u8) -> Option<usize> {
    let rest = text.get(at..)?;
    match rest {
        [b'%', high, low, ..] if hex_pair(*high, *low) == Some(wanted) => Some(at + 3),
        [b'\\', b'u', a, b, c, d, ..] if hex_quad([*a, *b, *c, *d]) == Some(wanted) => Some(at + 6),
        [b'\\', escaped, ..] if *escaped == wanted && matches!(wanted, b'/' | b'\\' | b'"') => Some(at + 2),
        [b' ', ..] if wanted == b'+' => Some(at + 1),
        [first, ..] if *first == wanted => Some(at + 1),
        _ => None,
    }
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn hex_pair(high: u8, low: u8) -> Option<u8> {
    Some(hex(high)? * 16 + hex(low)?)
}

fn hex_quad(digits: [u8; 4]) -> Option<u8> {
    let [a, b, c, d] = digits;
    (hex(a)? == 0 && hex(b)? == 0).then_some(())?;
    hex_pair(c, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "eyJ0eXAi+b/c=d.secret";

    #[test]
    fn every_echo_form_is_masked() {
        for echo in [
            TOKEN.to_owned(),
            "eyJ0eXAi%2Bb%2Fc%3Dd.secret".to_owned(),
            "eyJ0eXAi%2bb%2fc%3dd.secret".to_owned(),
            "eyJ0eXAi b/c=d.secret".to_owned(),
            r"eyJ0eXAi+b\/c=d.secret".to_owned(),
            r"eyJ0eXAi\u002Bb\u002fc\u003Dd.secret".to_owned(),
            "%65yJ0eXAi+b/c=d.secret".to_owned(),
        ] {
            let text = format!("Bad header Authorization: Bearer {echo} (twice: {echo})");
            assert_eq!(redact(text, TOKEN), "Bad header Authorization: Bearer *** (twice: ***)", "{echo}");
        }
    }

    #[test]
    fn text_without_an_echo_is_kept_as_it_was() {
        let text = "no token here, only eyJ0eXAi and a % and \\u00 and é".to_owned();
        assert_eq!(redact(text.clone(), TOKEN), text);
        assert_eq!(redact("short t here".to_owned(), "t"), "short t here");
        assert_eq!(redact(format!("é{TOKEN}é"), TOKEN), "é***é");
    }
}
