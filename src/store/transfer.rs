//! A whole installation as one JSON document, and back: `quorum export all`
//! and `quorum import`, to move between SQLite and PostgreSQL without loss.
//!
//! The document is written and read row by row (never held in memory):
//!
//! ```text
//! {"format":"quorum-export","version":1,"schema":16,"source":"sqlite","exported_at":"...",
//! "tables":[
//! {"table":"series","columns":["id","workspace",...],"rows":[
//! [1,"T0001",...],
//! ...
//! ],"count":2},
//! ...
//! ]}
//! ```
//!
//! Every table is exported, with its ids, except what belongs to one running
//! installation: sqlx's migration ledger, SQLite's full-text index (rebuilt
//! by its triggers as rows are imported) and the leases of singleton jobs
//! (the new installation's instances take them). Tables and columns are read
//! from the database itself, so what a later migration adds is carried
//! without a change here; values are integers, text, reals or null.
//!
//! The export reads one snapshot (a read transaction); the import writes in
//! one transaction into a database that holds no data yet, so a failed
//! import leaves it empty.

use anyhow::Context as _;
use futures_util::TryStreamExt as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use sqlx::Row as _;

use super::{Backend, Store};

/// The version of the document's layout (not of the schema).
pub const FORMAT_VERSION: u64 = 1;

/// What names the document's kind in its first field.
const FORMAT_NAME: &str = "quorum-export";

/// Tables in the order they are written and imported: each after the tables
/// its rows refer to. Tables a later migration adds come after these, by name.
const ORDER: &[&str] = &[
    "series",
    "occurrences",
    "agenda_items",
    "meeting_notes",
    "decisions",
    "actions",
    "occurrence_items",
    "audit",
    "todo_sync",
    "escalations",
    "escalation_events",
    "deliveries",
    "calendar_tokens",
    "pinned_workspaces",
    "inbound_requests",
];

/// Columns that refer to rows of their own table, possibly later ones: they
/// are imported as NULL and set once the whole table is in.
const SELF_REFERENCES: &[(&str, &[&str])] = &[("decisions", &["supersedes", "superseded_by"])];

/// Tables of one running installation, never exported.
fn is_excluded(table: &str) -> bool {
    table == "_sqlx_migrations"
        || table == "leases"
        || table.starts_with("decisions_fts")
        || table.starts_with("sqlite_")
}

/// An export or import refused for a reason the operator can act on (the
/// CLI shows it as one line and exits 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Real,
    Text,
}

impl Kind {
    /// The kind of a declared column type (SQLite) or data type (PostgreSQL).
    fn of(declared: &str) -> Option<Kind> {
        let t = declared.to_ascii_lowercase();
        if t.contains("int") || t == "bigserial" || t == "serial" {
            Some(Kind::Int)
        } else if t.contains("text") || t.contains("char") || t.contains("clob") {
            Some(Kind::Text)
        } else if t.contains("real")
            || t.contains("double")
            || t.contains("float")
            || t == "numeric"
        {
            Some(Kind::Real)
        } else {
            None
        }
    }
}

#[derive(Clone, Debug)]
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Clone, Debug)]
struct Table {
    name: String,
    columns: Vec<Column>,
}

/// Rows written or read, per table, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub tables: Vec<(String, u64)>,
}

impl Summary {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| *n).sum()
    }
}

/// Whether `name` is a plain SQL identifier (so it may be written into a
/// statement; every table and column name comes from the database's catalog).
fn plain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// The tables to carry, in [`ORDER`], then any others by name, with their
/// columns, read from the catalog on `conn`.
async fn tables(conn: &mut sqlx::AnyConnection, backend: Backend) -> anyhow::Result<Vec<Table>> {
    let names: Vec<String> = match backend {
        Backend::Sqlite => sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'"),
        Backend::Postgres => sqlx::query(
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        ),
    }
    .fetch_all(&mut *conn)
    .await
    .context("listing the database's tables")?
    .iter()
    .map(|r| r.try_get::<String, _>(0))
    .collect::<Result<_, _>>()
    .context("reading the database's tables")?;
    let mut names: Vec<String> = names.into_iter().filter(|n| !is_excluded(n)).collect();
    names.sort_by_key(|n| {
        (
            ORDER.iter().position(|o| o == n).unwrap_or(ORDER.len()),
            n.clone(),
        )
    });
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        anyhow::ensure!(plain(&name), "unexpected table name `{name}`");
        let rows = match backend {
            Backend::Sqlite => {
                sqlx::query("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
            }
            Backend::Postgres => sqlx::query(
                "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            ),
        }
        .bind(&name)
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("reading the columns of {name}"))?;
        let mut columns = Vec::with_capacity(rows.len());
        for r in rows {
            let column: String = r.try_get(0)?;
            let declared: String = r.try_get(1)?;
            anyhow::ensure!(
                plain(&column),
                "unexpected column name `{column}` in {name}"
            );
            let kind = Kind::of(&declared).with_context(|| {
                format!("column {name}.{column} has a type the export does not carry: {declared}")
            })?;
            columns.push(Column { name: column, kind });
        }
        out.push(Table { name, columns });
    }
    Ok(out)
}

/// The latest migration applied to the database on `conn`.
async fn schema_version(conn: &mut sqlx::AnyConnection) -> anyhow::Result<i64> {
    let v: Option<i64> = sqlx::query("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await
        .context("reading applied migrations")?
        .try_get(0)?;
    Ok(v.unwrap_or(0))
}

fn io(e: std::io::Error) -> anyhow::Error {
    anyhow::Error::new(e).context("writing the export")
}

/// One value of `row` at `i` as JSON.
fn value(row: &sqlx::any::AnyRow, i: usize, kind: Kind) -> anyhow::Result<serde_json::Value> {
    Ok(match kind {
        Kind::Int => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(serde_json::Value::Null, serde_json::Value::from),
        Kind::Real => row
            .try_get::<Option<f64>, _>(i)?
            .map_or(serde_json::Value::Null, serde_json::Value::from),
        Kind::Text => row
            .try_get::<Option<String>, _>(i)?
            .map_or(serde_json::Value::Null, serde_json::Value::from),
    })
}

impl Store {
    /// Write every workspace's data to `out` as the document described in
    /// this module's doc, from one consistent snapshot.
    pub async fn export_all(
        &self,
        out: &mut (dyn std::io::Write + Send),
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<Summary> {
        let begin = match self.backend {
            // Deferred: the snapshot is taken by the first read and kept
            // until the end, however busy the writers are (WAL).
            Backend::Sqlite => "BEGIN",
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        let mut tx = self
            .pool
            .begin_with(begin)
            .await
            .context("starting the export's read transaction")?;
        let schema = schema_version(&mut tx).await?;
        let tables = tables(&mut tx, self.backend).await?;
        let source = match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        write!(
            out,
            "{{\"format\":\"{FORMAT_NAME}\",\"version\":{FORMAT_VERSION},\"schema\":{schema},\"source\":\"{source}\",\"exported_at\":{},\n\"tables\":[",
            serde_json::Value::from(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        )
        .map_err(io)?;
        let mut summary = Summary::default();
        for (t, table) in tables.iter().enumerate() {
            let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            write!(
                out,
                "{}\n{{\"table\":{},\"columns\":{},\"rows\":[",
                if t == 0 { "" } else { "," },
                serde_json::Value::from(table.name.as_str()),
                serde_json::to_string(&names)?
            )
            .map_err(io)?;
            let select: Vec<String> = table
                .columns
                .iter()
                .map(|c| match c.kind {
                    Kind::Int => format!("CAST({} AS BIGINT)", c.name),
                    Kind::Real => format!("CAST({} AS DOUBLE PRECISION)", c.name),
                    Kind::Text => c.name.clone(),
                })
                .collect();
            // In insertion order, so rows refer only to rows already imported.
            let order = if names.contains(&"id") {
                "id".to_string()
            } else {
                (1..=names.len())
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let sql = format!(
                "SELECT {} FROM {} ORDER BY {order}",
                select.join(", "),
                table.name
            );
            let mut count: u64 = 0;
            {
                let mut rows = sqlx::query(&sql).fetch(&mut *tx);
                while let Some(row) = rows
                    .try_next()
                    .await
                    .with_context(|| format!("reading {}", table.name))?
                {
                    let values = table
                        .columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| value(&row, i, c.kind))
                        .collect::<anyhow::Result<Vec<_>>>()
                        .with_context(|| format!("reading a row of {}", table.name))?;
                    write!(
                        out,
                        "{}\n{}",
                        if count == 0 { "" } else { "," },
                        serde_json::to_string(&values)?
                    )
                    .map_err(io)?;
                    count += 1;
                }
            }
            write!(out, "\n],\"count\":{count}}}").map_err(io)?;
            summary.tables.push((table.name.clone(), count));
        }
        writeln!(out, "\n]}}").map_err(io)?;
        out.flush().map_err(io)?;
        tx.rollback()
            .await
            .context("ending the export's read transaction")?;
        Ok(summary)
    }

    /// Read a document written by [`Store::export_all`] from `input` into
    /// this database, which must hold no data yet. All or nothing.
    pub async fn import_all(
        &self,
        input: Box<dyn std::io::Read + Send>,
    ) -> anyhow::Result<Summary> {
        let (items, mut receiver) = tokio::sync::mpsc::channel::<Item>(256);
        // The parser runs on a blocking thread and hands over one row at a
        // time; when the import stops, the channel closes and so does it.
        let parser = tokio::task::spawn_blocking(move || {
            let mut reader = serde_json::Deserializer::from_reader(std::io::BufReader::new(input));
            Document { items: &items }.deserialize(&mut reader)?;
            reader.end()?;
            send::<serde_json::Error>(&items, Item::End)
        });
        let result = self.import_items(&mut receiver).await;
        drop(receiver);
        let parsed = parser.await.context("reading the import file")?;
        match (result, parsed) {
            // Committed only after the parser's End: the whole file was read.
            (Ok(summary), _) => Ok(summary),
            // The parser stopped first: its error says where the file is wrong.
            (Err(e), Err(p)) if e.is::<Incomplete>() => {
                Err(Refused(format!("the file is not a complete Quorum export: {p}")).into())
            }
            (Err(e), _) => Err(e),
        }
    }

    async fn import_items(
        &self,
        receiver: &mut tokio::sync::mpsc::Receiver<Item>,
    ) -> anyhow::Result<Summary> {
        let mut tx = self.begin().await?;
        let known = tables(&mut tx, self.backend).await?;
        let mut held = Vec::new();
        for table in &known {
            let n: i64 = sqlx::query(&format!("SELECT count(*) FROM {}", table.name))
                .fetch_one(&mut *tx)
                .await
                .with_context(|| format!("counting the rows of {}", table.name))?
                .try_get(0)?;
            if n > 0 {
                held.push(format!("{n} in {}", table.name));
            }
        }
        if !held.is_empty() {
            return Err(Refused(format!(
                "the database already holds data ({}); import only into a new, empty database, before Quorum first starts on it",
                held.join(", ")
            ))
            .into());
        }
        // The file's schema is the newest migration of the backend it came
        // from; the two backends' migrations are numbered together (a
        // number one backend does not need is skipped there), so this
        // Quorum knows every schema up to the newest of either.
        let latest = sqlx::migrate!("migrations/sqlite")
            .iter()
            .chain(sqlx::migrate!("migrations/postgres").iter())
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let mut summary = Summary::default();
        let mut current: Option<Current> = None;
        let mut seen = std::collections::HashSet::new();
        let mut header = false;
        let mut ended = false;
        while let Some(item) = receiver.recv().await {
            match item {
                Item::Header { schema } => {
                    if schema > latest {
                        return Err(Refused(format!(
                            "the file was exported from a newer Quorum (schema {schema}; this one knows up to {latest}): import it with that version or later"
                        ))
                        .into());
                    }
                    header = true;
                }
                Item::Table { name, columns } => {
                    anyhow::ensure!(header, "the file names no format version");
                    let table = known.iter().find(|t| t.name == name).ok_or_else(|| {
                        Refused(format!(
                            "the file holds a table `{name}` this database does not have"
                        ))
                    })?;
                    if !seen.insert(name.clone()) {
                        return Err(Refused(format!("the file holds table `{name}` twice")).into());
                    }
                    current = Some(Current::new(table, columns)?);
                }
                Item::Row(values) => {
                    let Some(cur) = current.as_mut() else {
                        return Err(Refused("a row outside a table".into()).into());
                    };
                    cur.insert(&mut tx, values).await?;
                }
                Item::TableEnd { count } => {
                    let Some(mut cur) = current.take() else {
                        return Err(Refused("a table's end outside a table".into()).into());
                    };
                    cur.flush(&mut tx).await?;
                    if cur.count != count {
                        return Err(Refused(format!(
                            "table {} says it has {count} rows but holds {}",
                            cur.table, cur.count
                        ))
                        .into());
                    }
                    cur.finish(&mut tx).await?;
                    summary.tables.push((cur.table, count));
                }
                Item::End => {
                    ended = true;
                    break;
                }
            }
        }
        if !ended || current.is_some() {
            return Err(Incomplete.into());
        }
        if self.backend == Backend::Postgres {
            // Ids were imported as they were: new rows continue after them.
            for table in &known {
                if table.columns.iter().any(|c| c.name == "id") {
                    sqlx::query(&format!(
                        "SELECT setval(seq, (SELECT COALESCE(MAX(id), 0) + 1 FROM {t}), false)
                         FROM (SELECT pg_get_serial_sequence('{t}', 'id') AS seq) AS s WHERE seq IS NOT NULL",
                        t = table.name
                    ))
                    .fetch_all(&mut *tx)
                    .await
                    .with_context(|| format!("moving the id sequence of {}", table.name))?;
                }
            }
        }
        tx.commit().await.context("committing the import")?;
        Ok(summary)
    }
}

/// The table being imported.
struct Current {
    table: String,
    columns: Vec<Column>,
    /// `INSERT INTO t (columns) VALUES `, followed by one group a row.
    insert: String,
    /// Rows read and checked, not yet written (at most `batch`).
    pending: Vec<Vec<Value>>,
    batch: usize,
    /// Positions of the self-referencing columns (imported as NULL first),
    /// and of `id`.
    deferred: Vec<usize>,
    id: Option<usize>,
    /// (id, deferred values) of rows whose deferred columns are set.
    later: Vec<(i64, Vec<serde_json::Value>)>,
    count: u64,
}

impl Current {
    fn new(table: &Table, names: Vec<String>) -> anyhow::Result<Current> {
        let mut columns = Vec::with_capacity(names.len());
        for name in &names {
            let column = table
                .columns
                .iter()
                .find(|c| &c.name == name)
                .ok_or_else(|| {
                    Refused(format!(
                        "the file has a column {}.{name} this database does not have",
                        table.name
                    ))
                })?;
            if columns.iter().any(|c: &Column| &c.name == name) {
                return Err(
                    Refused(format!("the file names column {}.{name} twice", table.name)).into(),
                );
            }
            columns.push(column.clone());
        }
        let self_refs = SELF_REFERENCES
            .iter()
            .find(|(t, _)| *t == table.name)
            .map_or(&[][..], |(_, c)| *c);
        let deferred: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| self_refs.contains(&n.as_str()))
            .map(|(i, _)| i)
            .collect();
        let id = names.iter().position(|n| n == "id");
        anyhow::ensure!(
            deferred.is_empty() || id.is_some(),
            "{} refers to itself but has no id",
            table.name
        );
        Ok(Current {
            insert: format!("INSERT INTO {} ({}) VALUES ", table.name, names.join(", ")),
            pending: Vec::new(),
            // Well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
            batch: (MAX_PARAMETERS / names.len().max(1)).clamp(1, MAX_BATCH),
            table: table.name.clone(),
            columns,
            deferred,
            id,
            later: Vec::new(),
            count: 0,
        })
    }

    async fn insert(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        mut values: Vec<serde_json::Value>,
    ) -> anyhow::Result<()> {
        if values.len() != self.columns.len() {
            return Err(Refused(format!(
                "row {} of {} has {} values for {} columns",
                self.count + self.pending.len() as u64 + 1,
                self.table,
                values.len(),
                self.columns.len()
            ))
            .into());
        }
        if !self.deferred.is_empty() {
            let held: Vec<serde_json::Value> = self
                .deferred
                .iter()
                .map(|&i| std::mem::take(&mut values[i]))
                .collect();
            if held.iter().any(|v| !v.is_null()) {
                let id = self
                    .id
                    .and_then(|i| values[i].as_i64())
                    .ok_or_else(|| Refused(format!("a row of {} has no id", self.table)))?;
                self.later.push((id, held));
            }
        }
        let row = values
            .into_iter()
            .zip(&self.columns)
            .map(|(value, column)| typed(value, column, &self.table))
            .collect::<Result<Vec<_>, Refused>>()?;
        self.pending.push(row);
        if self.pending.len() >= self.batch {
            self.flush(conn).await?;
        }
        Ok(())
    }

    /// Write the pending rows in one statement.
    async fn flush(&mut self, conn: &mut sqlx::AnyConnection) -> anyhow::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let width = self.columns.len();
        let mut sql = self.insert.clone();
        for r in 0..self.pending.len() {
            let group: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            sql.push_str(&group.join(", "));
            sql.push(')');
        }
        let rows = std::mem::take(&mut self.pending);
        let n = rows.len() as u64;
        let mut query = sqlx::query(&sql);
        for value in rows.into_iter().flatten() {
            query = value.bind(query);
        }
        query.execute(&mut *conn).await.with_context(|| {
            format!(
                "importing rows {} to {} of {}",
                self.count + 1,
                self.count + n,
                self.table
            )
        })?;
        self.count += n;
        Ok(())
    }

    /// Set the self-referencing columns now that every row is in.
    async fn finish(&self, conn: &mut sqlx::AnyConnection) -> anyhow::Result<()> {
        let sets: Vec<String> = self
            .deferred
            .iter()
            .enumerate()
            .map(|(k, &i)| format!("{} = ${}", self.columns[i].name, k + 1))
            .collect();
        let sql = format!(
            "UPDATE {} SET {} WHERE id = ${}",
            self.table,
            sets.join(", "),
            self.deferred.len() + 1
        );
        for (id, values) in &self.later {
            let mut query = sqlx::query(&sql);
            for (value, &i) in values.iter().zip(&self.deferred) {
                query = typed(value.clone(), &self.columns[i], &self.table)?.bind(query);
            }
            query
                .bind(*id)
                .execute(&mut *conn)
                .await
                .with_context(|| format!("linking row {id} of {}", self.table))?;
        }
        Ok(())
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Most rows written by one statement.
const MAX_BATCH: usize = 200;
/// Most parameters bound to one statement.
const MAX_PARAMETERS: usize = 10_000;

/// A value checked against its column's kind.
enum Value {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
}

impl Value {
    fn bind(self, query: AnyQuery<'_>) -> AnyQuery<'_> {
        match self {
            Value::Int(v) => query.bind(v),
            Value::Real(v) => query.bind(v),
            Value::Text(v) => query.bind(v),
        }
    }
}

/// A JSON value as a value of its column's kind; anything else is refused.
fn typed(value: serde_json::Value, column: &Column, table: &str) -> Result<Value, Refused> {
    use serde_json::Value as Json;
    let wrong = |what: &str| {
        Refused(format!(
            "{table}.{} holds {what} where {} was expected",
            column.name,
            match column.kind {
                Kind::Int => "an integer",
                Kind::Real => "a number",
                Kind::Text => "text",
            }
        ))
    };
    Ok(match (column.kind, value) {
        (Kind::Int, Json::Null) => Value::Int(None),
        (Kind::Real, Json::Null) => Value::Real(None),
        (Kind::Text, Json::Null) => Value::Text(None),
        (Kind::Int, Json::Number(n)) => Value::Int(Some(
            n.as_i64().ok_or_else(|| wrong("a number out of range"))?,
        )),
        (Kind::Real, Json::Number(n)) => {
            Value::Real(Some(n.as_f64().ok_or_else(|| wrong("a number"))?))
        }
        (Kind::Text, Json::String(s)) => Value::Text(Some(s)),
        (_, Json::String(_)) => return Err(wrong("text")),
        (_, Json::Number(_)) => return Err(wrong("a number")),
        (_, _) => return Err(wrong("a list or an object")),
    })
}

/// What the parser hands to the import, in document order.
enum Item {
    Header {
        schema: i64,
    },
    Table {
        name: String,
        columns: Vec<String>,
    },
    Row(Vec<serde_json::Value>),
    TableEnd {
        count: u64,
    },
    /// The whole document was read and is well formed.
    End,
}

/// The items stopped before the document's end (the parser says why).
#[derive(Debug, thiserror::Error)]
#[error("the import file ended early")]
struct Incomplete;

fn send<E: de::Error>(items: &tokio::sync::mpsc::Sender<Item>, item: Item) -> Result<(), E> {
    items
        .blocking_send(item)
        .map_err(|_| E::custom("the import stopped"))
}

/// The whole document: its header fields, then `tables`.
struct Document<'a> {
    items: &'a tokio::sync::mpsc::Sender<Item>,
}

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a Quorum export (an object with format, version, schema and tables)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (mut format, mut version, mut schema, mut tables) = (false, false, None, false);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => {
                    let f: String = map.next_value()?;
                    if f != FORMAT_NAME {
                        return Err(de::Error::custom(format!(
                            "format is `{f}`, not `{FORMAT_NAME}`"
                        )));
                    }
                    format = true;
                }
                "version" => {
                    let v: u64 = map.next_value()?;
                    if v != FORMAT_VERSION {
                        return Err(de::Error::custom(format!(
                            "format version {v} is not {FORMAT_VERSION}, the one this Quorum reads"
                        )));
                    }
                    version = true;
                }
                "schema" => schema = Some(map.next_value::<i64>()?),
                "source" | "exported_at" => {
                    map.next_value::<IgnoredAny>()?;
                }
                "tables" => {
                    let (true, true, Some(schema)) = (format, version, schema) else {
                        return Err(de::Error::custom(
                            "format, version and schema must come before tables",
                        ));
                    };
                    send(self.items, Item::Header { schema })?;
                    map.next_value_seed(Tables { items: self.items })?;
                    tables = true;
                }
                other => return Err(de::Error::unknown_field(other, FIELDS)),
            }
        }
        if !tables {
            return Err(de::Error::missing_field("tables"));
        }
        Ok(())
    }
}

const FIELDS: &[&str] = &[
    "format",
    "version",
    "schema",
    "source",
    "exported_at",
    "tables",
];

struct Tables<'a> {
    items: &'a tokio::sync::mpsc::Sender<Item>,
}

impl<'de> DeserializeSeed<'de> for Tables<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Tables<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of tables")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(OneTable { items: self.items })?
            .is_some()
        {}
        Ok(())
    }
}

struct OneTable<'a> {
    items: &'a tokio::sync::mpsc::Sender<Item>,
}

impl<'de> DeserializeSeed<'de> for OneTable<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OneTable<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a table (an object with table, columns, rows and count)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (mut name, mut columns, mut rows) = (None::<String>, None::<Vec<String>>, false);
        let mut count = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "table" => name = Some(map.next_value()?),
                "columns" => columns = Some(map.next_value()?),
                "rows" => {
                    let (Some(name), Some(columns)) = (name.take(), columns.take()) else {
                        return Err(de::Error::custom(
                            "a table's name and columns must come before its rows",
                        ));
                    };
                    send(self.items, Item::Table { name, columns })?;
                    map.next_value_seed(Rows { items: self.items })?;
                    rows = true;
                }
                "count" => count = Some(map.next_value::<u64>()?),
                other => {
                    return Err(de::Error::unknown_field(
                        other,
                        &["table", "columns", "rows", "count"],
                    ));
                }
            }
        }
        match (rows, count) {
            (true, Some(count)) => send(self.items, Item::TableEnd { count }),
            (false, _) => Err(de::Error::missing_field("rows")),
            (true, None) => Err(de::Error::missing_field("count")),
        }
    }
}

struct Rows<'a> {
    items: &'a tokio::sync::mpsc::Sender<Item>,
}

impl<'de> DeserializeSeed<'de> for Rows<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(row) = seq.next_element::<Vec<serde_json::Value>>()? {
            send(self.items, Item::Row(row))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_to_the_kinds_carried() {
        assert_eq!(Kind::of("INTEGER"), Some(Kind::Int));
        assert_eq!(Kind::of("bigint"), Some(Kind::Int));
        assert_eq!(Kind::of("TEXT"), Some(Kind::Text));
        assert_eq!(Kind::of("character varying"), Some(Kind::Text));
        assert_eq!(Kind::of("double precision"), Some(Kind::Real));
        assert_eq!(Kind::of("bytea"), None);
    }

    #[test]
    fn only_plain_identifiers_are_written_into_statements() {
        assert!(plain("escalation_events"));
        assert!(!plain("series; DROP TABLE series"));
        assert!(!plain("Series"));
        assert!(!plain("1x"));
        assert!(!plain(""));
    }
}
