//! The auth-param list of a `Digest` header value (RFC 7235 2.1, RFC 3261 25.1): reading
//! `name=value` pairs with quoted strings and tokens, and printing them back.

use std::fmt::{self, Write};

use super::AuthError;

/// One `name=value` pair; `name` is lower-cased, `value` unescaped.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Param {
    pub(super) name: String,
    pub(super) value: String,
}

/// Splits `Digest a=b, c="d"` into its params after checking the scheme. Refuses repeated
/// names (RFC 7616 3.4: a parameter MUST NOT appear more than once).
pub(super) fn parse_digest(input: &str) -> Result<Vec<Param>, AuthError> {
    let input = input.trim_start();
    let scheme_len = input
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(input.len());
    let scheme = &input[..scheme_len];
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(AuthError::NotDigest(scheme.chars().take(32).collect()));
    }
    let mut reader = Reader {
        bytes: input.as_bytes(),
        text: input,
        pos: scheme_len,
    };
    let mut params: Vec<Param> = Vec::new();
    loop {
        reader.skip_ws();
        match reader.peek() {
            None => break,
            // Empty list elements are allowed (RFC 7230 7).
            Some(b',') => {
                reader.pos += 1;
                continue;
            }
            Some(_) => {}
        }
        let param = reader.param()?;
        if params.iter().any(|p| p.name == param.name) {
            return Err(AuthError::DuplicateParam(param.name));
        }
        params.push(param);
        reader.skip_ws();
        match reader.peek() {
            None => break,
            Some(b',') => reader.pos += 1,
            Some(_) => return Err(reader.error("expected ',' between parameters")),
        }
    }
    Ok(params)
}

/// Writes `, name="value"` (or without the comma for the first) with `"` and `\` escaped.
/// Control characters cannot appear in a quoted-string and are dropped, so a value can never
/// break the header line it is printed in.
pub(super) fn write_quoted(
    f: &mut fmt::Formatter<'_>,
    first: &mut bool,
    name: &str,
    value: &str,
) -> fmt::Result {
    separator(f, first)?;
    write!(f, "{name}=\"")?;
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            c if c.is_control() && c != '\t' => {}
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// Writes `, name=value` bare when `value` is a token, quoted otherwise (so odd values
/// read back the same).
pub(super) fn write_token(
    f: &mut fmt::Formatter<'_>,
    first: &mut bool,
    name: &str,
    value: &str,
) -> fmt::Result {
    if !value.is_empty() && value.bytes().all(is_token_byte) {
        separator(f, first)?;
        write!(f, "{name}={value}")
    } else {
        write_quoted(f, first, name, value)
    }
}

fn separator(f: &mut fmt::Formatter<'_>, first: &mut bool) -> fmt::Result {
    if *first {
        *first = false;
        f.write_char(' ')
    } else {
        f.write_str(", ")
    }
}

/// RFC 3261 25.1 token characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

struct Reader<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    fn error(&self, reason: &'static str) -> AuthError {
        AuthError::Syntax {
            at: self.pos,
            reason,
        }
    }

    fn param(&mut self) -> Result<Param, AuthError> {
        let start = self.pos;
        while self.peek().is_some_and(is_token_byte) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("expected a parameter name"));
        }
        let name = self.text[start..self.pos].to_ascii_lowercase();
        self.skip_ws();
        if self.peek() != Some(b'=') {
            return Err(self.error("expected '=' after the parameter name"));
        }
        self.pos += 1;
        self.skip_ws();
        let value = if self.peek() == Some(b'"') {
            self.quoted()?
        } else {
            self.bare()?
        };
        Ok(Param { name, value })
    }

    /// A quoted-string; `\x` stands for `x`.
    fn quoted(&mut self) -> Result<String, AuthError> {
        self.pos += 1;
        let mut value = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(value);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) if !is_ctl(escaped) => value.push(escaped),
                    Some((j, _)) => return Err(self.error_at(self.pos + j, "control character")),
                    None => break,
                },
                c if is_ctl(c) => return Err(self.error_at(self.pos + i, "control character")),
                c => value.push(c),
            }
        }
        Err(self.error_at(self.bytes.len(), "unterminated quoted string"))
    }

    /// An unquoted value. Tokens by the grammar, but nonces and opaques seen unquoted in the
    /// wild hold `/` and `=`, so it runs to the next comma or whitespace.
    fn bare(&mut self) -> Result<String, AuthError> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b == b',' || b.is_ascii_whitespace() || b == b'"' || b.is_ascii_control() {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("expected a value"));
        }
        Ok(self.text[start..self.pos].to_string())
    }

    fn error_at(&self, at: usize, reason: &'static str) -> AuthError {
        AuthError::Syntax { at, reason }
    }
}

/// Control characters other than HTAB may not appear in a quoted-string.
fn is_ctl(c: char) -> bool {
    c.is_control() && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, value: &str) -> Param {
        Param {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn reads_tokens_and_quoted_strings_with_escapes() {
        let got = parse_digest(r#"digest Realm="a\"b\\c", algorithm=MD5,qop="auth""#).unwrap();
        assert_eq!(
            got,
            vec![
                p("realm", r#"a"b\c"#),
                p("algorithm", "MD5"),
                p("qop", "auth")
            ]
        );
    }

    #[test]
    fn tolerates_spaces_around_equals_and_empty_elements() {
        let got = parse_digest("Digest  nonce = \"n\" ,, opaque=x/y==  ,").unwrap();
        assert_eq!(got, vec![p("nonce", "n"), p("opaque", "x/y==")]);
    }

    #[test]
    fn other_schemes_are_refused() {
        assert_eq!(
            parse_digest("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            Err(AuthError::NotDigest("Basic".into()))
        );
        assert!(matches!(
            parse_digest("Digestive realm=x"),
            Err(AuthError::NotDigest(_))
        ));
    }

    #[test]
    fn malformed_lists_are_syntax_errors() {
        for bad in [
            "Digest realm",
            "Digest realm=",
            "Digest =x",
            "Digest realm=\"open",
            "Digest realm=\"a\" nonce=\"b\"",
            "Digest realm=\"a\\",
            "Digest realm=\"a\u{1}\"",
        ] {
            assert!(
                matches!(parse_digest(bad), Err(AuthError::Syntax { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert_eq!(
            parse_digest("Digest nonce=a, NONCE=b"),
            Err(AuthError::DuplicateParam("nonce".into()))
        );
    }

    #[test]
    fn a_bare_scheme_has_no_params() {
        assert_eq!(parse_digest("Digest"), Ok(vec![]));
    }
}
