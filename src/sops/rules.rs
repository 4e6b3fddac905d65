//! Which values and comments of a tree are encrypted.
//!
//! sops records one selection rule per file (`unencrypted_suffix` by default,
//! or one of the suffix/regex/comment-regex options) and decides, for every
//! leaf, from the leaf's key path and the comments standing before it. Decrypt
//! must make exactly the decision encrypt made: a value the rule says is
//! encrypted must be an `ENC[…]` string, and with `mac_only_encrypted` only
//! those values enter the MAC. Regexes are compiled once per file; a pattern
//! that does not compile matches nothing, as in sops (which ignores the error).

use regex::bytes::Regex;

/// The selection rule of a file.
#[derive(Debug)]
pub enum Rules {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Option<Regex>),
    EncryptedRegex(Option<Regex>),
    UnencryptedCommentRegex(Option<Regex>),
    EncryptedCommentRegex(Option<Regex>),
}

/// The default rule when a file names none.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

fn is_match(re: &Option<Regex>, text: &[u8]) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

impl Rules {
    /// Builds the rule from the six metadata fields; more than one set is an error, as in sops.
    pub fn from_metadata(
        unencrypted_suffix: &str,
        encrypted_suffix: &str,
        unencrypted_regex: &str,
        encrypted_regex: &str,
        unencrypted_comment_regex: &str,
        encrypted_comment_regex: &str,
    ) -> Result<Rules, String> {
        let set = [
            unencrypted_suffix,
            encrypted_suffix,
            unencrypted_regex,
            encrypted_regex,
            unencrypted_comment_regex,
            encrypted_comment_regex,
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .count();
        if set > 1 {
            return Err("the sops metadata sets more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex and unencrypted_comment_regex".into());
        }
        Ok(if !encrypted_suffix.is_empty() {
            Rules::EncryptedSuffix(encrypted_suffix.into())
        } else if !unencrypted_regex.is_empty() {
            Rules::UnencryptedRegex(compile(unencrypted_regex))
        } else if !encrypted_regex.is_empty() {
            Rules::EncryptedRegex(compile(encrypted_regex))
        } else if !unencrypted_comment_regex.is_empty() {
            Rules::UnencryptedCommentRegex(compile(unencrypted_comment_regex))
        } else if !encrypted_comment_regex.is_empty() {
            Rules::EncryptedCommentRegex(compile(encrypted_comment_regex))
        } else if !unencrypted_suffix.is_empty() {
            Rules::UnencryptedSuffix(unencrypted_suffix.into())
        } else {
            Rules::UnencryptedSuffix(DEFAULT_UNENCRYPTED_SUFFIX.into())
        })
    }

    /// True when the rule looks at comments, so the walk must track them.
    pub fn uses_comments(&self) -> bool {
        matches!(
            self,
            Rules::UnencryptedCommentRegex(_) | Rules::EncryptedCommentRegex(_)
        )
    }

    /// sops' `shouldBeEncrypted`: `path` holds every key from the root to the
    /// leaf (none for a comment), `comments` the comment texts in force at each
    /// nesting level, and `is_comment` whether the leaf is itself a comment (the
    /// last entry of the innermost level).
    pub fn should_encrypt(
        &self,
        path: &[&str],
        comments: &[Vec<Vec<u8>>],
        is_comment: bool,
    ) -> bool {
        match self {
            Rules::UnencryptedSuffix(s) => !path.iter().any(|p| p.ends_with(s.as_str())),
            Rules::EncryptedSuffix(s) => path.iter().any(|p| p.ends_with(s.as_str())),
            Rules::UnencryptedRegex(re) => !path.iter().any(|p| is_match(re, p.as_bytes())),
            Rules::EncryptedRegex(re) => path.iter().any(|p| is_match(re, p.as_bytes())),
            Rules::UnencryptedCommentRegex(re) => {
                !comments.iter().flatten().any(|c| is_match(re, c))
            }
            Rules::EncryptedCommentRegex(re) => {
                let last_level = comments.len().saturating_sub(1);
                comments.iter().enumerate().any(|(i, level)| {
                    level.iter().enumerate().any(|(j, c)| {
                        let is_self = is_comment && i == last_level && j + 1 == level.len();
                        !is_self && is_match(re, c)
                    })
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(which: usize, v: &str) -> Rules {
        let mut f = [""; 6];
        f[which] = v;
        Rules::from_metadata(f[0], f[1], f[2], f[3], f[4], f[5]).unwrap()
    }

    #[test]
    fn default_is_unencrypted_suffix() {
        let r = Rules::from_metadata("", "", "", "", "", "").unwrap();
        assert!(r.should_encrypt(&["a", "b"], &[], false));
        assert!(!r.should_encrypt(&["a_unencrypted", "b"], &[], false));
    }

    #[test]
    fn suffix_and_regex_rules_look_at_every_ancestor() {
        let r = rules(1, "_enc");
        assert!(r.should_encrypt(&["top_enc", "leaf"], &[], false));
        assert!(!r.should_encrypt(&["top", "leaf"], &[], false));
        let r = rules(3, "^(data|stringData)$");
        assert!(r.should_encrypt(&["data", "password"], &[], false));
        assert!(!r.should_encrypt(&["metadata", "name"], &[], false));
        // comments have an empty path: never encrypted under encrypted_regex
        assert!(!r.should_encrypt(&[], &[], true));
        let r = rules(2, "^public");
        assert!(!r.should_encrypt(&["x", "public_key"], &[], false));
    }

    #[test]
    fn invalid_regex_matches_nothing() {
        let r = rules(3, "(");
        assert!(!r.should_encrypt(&["anything"], &[], false));
        let r = rules(2, "(");
        assert!(r.should_encrypt(&["anything"], &[], false));
    }

    #[test]
    fn comment_regexes_and_the_marker_exception() {
        let r = rules(5, "sops:enc");
        let marker = vec![vec![b" sops:enc".to_vec()]];
        assert!(r.should_encrypt(&["k"], &marker, false));
        // the marker comment itself stays plain
        assert!(!r.should_encrypt(&[], &marker, true));
        let r = rules(4, "sops:noenc");
        let marker = vec![vec![], vec![b"sops:noenc".to_vec()]];
        assert!(!r.should_encrypt(&["a", "k"], &marker, false));
        assert!(r.should_encrypt(&["a", "k"], &[vec![], vec![]], false));
    }

    #[test]
    fn two_rules_are_refused() {
        assert!(Rules::from_metadata("_u", "_e", "", "", "", "").is_err());
    }
}
