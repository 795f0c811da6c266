//! Splitting a command line into words the way FreeSWITCH's switch_separate_string does:
//! spaces separate, single or double quotes group (`'On Break'`), a backslash escapes the
//! next character inside quotes.

/// The words of `line`. An unterminated quote runs to the end of the line.
pub fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                } else if c == q {
                    quote = None;
                } else {
                    cur.push(c);
                }
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                    in_word = true;
                } else if c.is_whitespace() {
                    if in_word {
                        out.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                } else {
                    cur.push(c);
                    in_word = true;
                }
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn quotes_group_words() {
        assert_eq!(
            split("agent set status 1000 'On Break'  lunch"),
            ["agent", "set", "status", "1000", "On Break", "lunch"]
        );
        assert_eq!(
            split(r#"agent set contact 1000 "{a=1 b=2}user/1000""#),
            ["agent", "set", "contact", "1000", "{a=1 b=2}user/1000"]
        );
        assert_eq!(split(r"x 'it\'s'"), ["x", "it's"]);
        assert_eq!(split("x ''"), ["x", ""]);
        assert!(split("   ").is_empty());
    }
}
