//! Table names: only plain SQL identifiers are accepted, so they can be
//! quoted into statements safely.

use std::fmt;

/// A table name that is a plain identifier (`[A-Za-z_][A-Za-z0-9_]*`, at most 63 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table(String);

impl Table {
    /// Checks `name` and wraps it; the error says what is wrong.
    pub fn parse(name: &str) -> Result<Table, String> {
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "invalid table name {name:?}: use letters, digits and underscores, not starting with a digit"
            ));
        }
        if name.len() > 63 {
            return Err(format!("invalid table name {name:?}: longer than 63 bytes"));
        }
        Ok(Table(name.to_string()))
    }

    /// The name as given.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The name double-quoted for SQL (case kept as given).
    pub fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }

    /// The quoted name of the table's hnsw index.
    pub fn index_quoted(&self) -> String {
        let mut name = format!("{}_embedding_hnsw", self.0);
        name.truncate(63);
        format!("\"{name}\"")
    }
}

impl fmt::Display for Table {
    /// Writes the name as given.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_identifiers() {
        for ok in ["images", "_t", "Photos2", "a_b_c"] {
            assert_eq!(Table::parse(ok).unwrap().name(), ok);
        }
        assert_eq!(Table::parse("Photos").unwrap().quoted(), "\"Photos\"");
        assert_eq!(
            Table::parse("images").unwrap().index_quoted(),
            "\"images_embedding_hnsw\""
        );
    }

    #[test]
    fn refuses_anything_else() {
        for bad in [
            "",
            "1abc",
            "a-b",
            "a b",
            "x\"; DROP TABLE y; --",
            "s.t",
            "é",
        ] {
            assert!(Table::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Table::parse(&"a".repeat(64)).is_err());
        assert!(Table::parse(&"a".repeat(63)).is_ok());
        let long = Table::parse(&"a".repeat(63)).unwrap().index_quoted();
        assert_eq!(long.len(), 65);
    }
}
