//! `pgvision search IMAGE`: the k nearest stored images to a query file.

use std::path::Path;

use anyhow::{anyhow, Context};

use crate::db;
use crate::ident::Table;

/// Formats results as an aligned table: rank, distance, id, name.
pub fn format_hits(hits: &[(i64, String, f64)]) -> String {
    let mut out = format!(
        "{:>4}  {:>9}  {:>8}  {}\n",
        "rank", "distance", "id", "name"
    );
    for (rank, (id, name, distance)) in hits.iter().enumerate() {
        out.push_str(&format!(
            "{:>4}  {distance:>9.4}  {id:>8}  {name}\n",
            rank + 1
        ));
    }
    out
}

/// Embeds `image` in the database and prints its `k` nearest neighbours in `table`.
pub async fn run(
    dsn: &str,
    table: &Table,
    model: Option<&str>,
    image: &Path,
    k: u32,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(image).with_context(|| format!("cannot read {}", image.display()))?;
    let client = db::connect(dsn).await?;
    let model = db::open_table(&client, table, model).await?;
    let hits = db::search(&client, table, &model, &bytes, k)
        .await
        .map_err(|e| anyhow!("{}: {}", image.display(), db::describe(&e)))?;
    print!("{}", format_hits(&hits));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_layout() {
        let s = format_hits(&[
            (12, "cat.jpg".into(), 0.0),
            (7, "dog/a.png".into(), 12.345678),
        ]);
        let lines: Vec<_> = s.lines().collect();
        assert_eq!(lines[0], "rank   distance        id  name");
        assert_eq!(lines[1], "   1     0.0000        12  cat.jpg");
        assert_eq!(lines[2], "   2    12.3457         7  dog/a.png");
    }
}
