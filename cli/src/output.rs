//! Text and JSON renderings of what the commands found.

use std::fmt::Write as _;

use serde_json::{json, Value};

use sealed_session::inspect::{Candidate, Contents, Header, Inspection, KeySource};
use sealed_session::{Algorithm, KeyId, LoadOutcome, Rejection};

/// Which secret or epoch a row of `key-ids` describes.
pub enum KeyLabel {
    Ring {
        index: usize,
    },
    Epoch {
        epoch: u64,
        current: bool,
        starts: u64,
    },
}

/// One row of `key-ids`: a secret (or epoch) and its key id per algorithm.
pub struct KeyRow {
    pub label: KeyLabel,
    pub ids: Vec<(Algorithm, KeyId)>,
}

pub fn key_ids_text(rows: &[KeyRow]) -> String {
    let mut out = String::new();
    for row in rows {
        let label = match row.label {
            KeyLabel::Ring { index: 0 } => "key 0 (primary, seals)".to_owned(),
            KeyLabel::Ring { index } => format!("key {index} (opens only)"),
            KeyLabel::Epoch {
                epoch,
                current,
                starts,
            } => format!(
                "epoch {epoch}{} (from {})",
                if current { ", current" } else { "" },
                utc(starts)
            ),
        };
        let _ = writeln!(out, "{label}");
        for (alg, id) in &row.ids {
            let _ = writeln!(out, "  {:<20} {id}", alg.name());
        }
    }
    out
}

pub fn key_ids_json(rows: &[KeyRow]) -> String {
    let rows: Vec<Value> = rows
        .iter()
        .map(|row| {
            let ids: serde_json::Map<String, Value> = row
                .ids
                .iter()
                .map(|(a, id)| (a.name().to_owned(), json!(id.to_string())))
                .collect();
            match row.label {
                KeyLabel::Ring { index } => {
                    json!({"index": index, "primary": index == 0, "keyIds": ids})
                }
                KeyLabel::Epoch {
                    epoch,
                    current,
                    starts,
                } => json!({"epoch": epoch, "current": current, "startsAt": starts, "keyIds": ids}),
            }
        })
        .collect();
    pretty(&json!({ "keys": rows }))
}

/// What `inspect` prints about.
pub struct View<'a> {
    pub name: &'a str,
    pub max_cookies: usize,
    pub with_keys: bool,
    pub epoch: bool,
    pub report: &'a Inspection,
}

fn chunk_name(name: &str, i: usize) -> String {
    match i {
        0 => name.to_owned(),
        i => format!("{name}.{i}"),
    }
}

/// The outcome in words, and whether it is a rejection to explain.
fn outcome_text(view: &View<'_>) -> String {
    match view.report.outcome {
        LoadOutcome::NoCookie => format!("no cookie named {:?} in the input", view.name),
        LoadOutcome::Opened {
            needs_reseal: false,
        } => "opens".into(),
        LoadOutcome::Opened { needs_reseal: true } => {
            "opens, under an older key (or another algorithm): the next response re-seals it \
             under the primary key"
                .into()
        }
        LoadOutcome::Rejected(Rejection::UnknownKey) if !view.with_keys => {
            "not opened: no --keys given (header only)".into()
        }
        LoadOutcome::Rejected(r) => format!("rejected: {} ({r})", r.as_str()),
        _ => format!("{:?}", view.report.outcome),
    }
}

pub fn inspect_text(view: &View<'_>) -> String {
    let r = view.report;
    let mut out = String::new();
    let present: Vec<String> = r.chunks.iter().map(|i| chunk_name(view.name, *i)).collect();
    let _ = writeln!(
        out,
        "cookie        {} (up to {} cookie{})",
        view.name,
        view.max_cookies,
        if view.max_cookies == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "present       {} ({} Cookie header bytes in all)",
        if present.is_empty() {
            "none".to_owned()
        } else {
            present.join(", ")
        },
        r.header_bytes
    );
    let _ = writeln!(out, "outcome       {}", outcome_text(view));
    let total = r.candidates.len();
    for (n, c) in r.candidates.iter().enumerate() {
        let _ = writeln!(out);
        let _ = writeln!(out, "value {} of {total}", n + 1);
        candidate_text(&mut out, view, c, r.now);
    }
    out
}

fn candidate_text(out: &mut String, view: &View<'_>, c: &Candidate, now: u64) {
    match &c.header {
        Ok(h) => {
            let _ = writeln!(
                out,
                "  header      format v{}, {}, key id {}",
                h.version, h.algorithm, h.key_id
            );
            let _ = writeln!(
                out,
                "  size        {} base64url chars = {} bytes: header {} + encrypted {} + tag {}",
                h.encoded_len, h.sealed_len, h.header_len, h.ciphertext_len, h.tag_len
            );
        }
        Err(e) => {
            let _ = writeln!(out, "  header      unreadable: {} ({e})", e.as_str());
        }
    }
    if let Some(s) = &c.contents {
        contents_text(out, s, now);
    }
    let verdict = match c.rejection {
        None => "opens".to_owned(),
        Some(Rejection::UnknownKey) if !view.with_keys => "not opened (no --keys)".to_owned(),
        Some(r) => format!("rejected: {} ({r})", r.as_str()),
    };
    let _ = writeln!(out, "  result      {verdict}");
    if view.epoch && c.rejection == Some(Rejection::UnknownKey) && view.with_keys {
        let _ = writeln!(
            out,
            "              (epoch keys open the current and the previous epoch only)"
        );
    }
}

fn contents_text(out: &mut String, s: &Contents, now: u64) {
    let key = match s.key {
        KeySource::Ring { index: 0 } => "ring key 0 (the primary)".to_owned(),
        KeySource::Ring { index } => format!("ring key {index} (an older secret, not the primary)"),
        KeySource::Epoch { epoch } => format!(
            "epoch {epoch}{}",
            if s.primary {
                " (current)"
            } else {
                " (not the current epoch)"
            }
        ),
        _ => "a key whose id matches none listed".to_owned(),
    };
    let _ = writeln!(out, "  opened by   {key}");
    let _ = writeln!(
        out,
        "  body        {} bytes{}",
        s.body_len,
        if s.compressed { ", LZ4-compressed" } else { "" }
    );
    let _ = writeln!(out, "  created     {}", when(s.created_at, now));
    let _ = writeln!(out, "  refreshed   {}", when(s.refreshed_at, now));
    let idle = s
        .idle_expires_at
        .map_or_else(|| "no idle timeout".to_owned(), |t| when(t, now));
    let _ = writeln!(out, "  idle until  {idle}");
    let _ = writeln!(out, "  expires     {}", when(s.absolute_expires_at, now));
    let _ = writeln!(out, "  entries     {}", s.entries.len());
    let width = s
        .entries
        .iter()
        .map(|e| entry_name(&e.name).len())
        .max()
        .unwrap_or(0);
    for e in &s.entries {
        let _ = writeln!(out, "    {:<width$}  {} bytes", entry_name(&e.name), e.size);
    }
}

fn entry_name(name: &str) -> &str {
    if name.is_empty() {
        "(typed data)"
    } else {
        name
    }
}

fn rejection_json(r: Rejection) -> Value {
    json!({"reason": r.as_str(), "message": r.to_string()})
}

fn header_json(h: &Header) -> Value {
    json!({
        "version": h.version,
        "algorithm": h.algorithm.name(),
        "keyId": h.key_id.to_string(),
        "nonceLen": h.nonce_len,
        "headerLen": h.header_len,
        "ciphertextLen": h.ciphertext_len,
        "tagLen": h.tag_len,
        "sealedLen": h.sealed_len,
        "encodedLen": h.encoded_len,
    })
}

fn contents_json(s: &Contents) -> Value {
    let key = match s.key {
        KeySource::Ring { index } => json!({"ring": index}),
        KeySource::Epoch { epoch } => json!({"epoch": epoch}),
        _ => Value::Null,
    };
    json!({
        "key": key,
        "primary": s.primary,
        "compressed": s.compressed,
        "bodyLen": s.body_len,
        "createdAt": s.created_at,
        "refreshedAt": s.refreshed_at,
        "idleExpiresAt": s.idle_expires_at,
        "absoluteExpiresAt": s.absolute_expires_at,
        "entries": s.entries.iter().map(|e| json!({"name": e.name, "size": e.size})).collect::<Vec<_>>(),
    })
}

pub fn inspect_json(view: &View<'_>) -> String {
    let r = view.report;
    let outcome = match r.outcome {
        LoadOutcome::NoCookie => json!({"status": "no_cookie"}),
        LoadOutcome::Opened { needs_reseal } => {
            json!({"status": "opened", "needsReseal": needs_reseal})
        }
        LoadOutcome::Rejected(Rejection::UnknownKey) if !view.with_keys => {
            json!({"status": "not_opened_without_keys"})
        }
        LoadOutcome::Rejected(rej) => {
            let mut v = rejection_json(rej);
            v["status"] = json!("rejected");
            v
        }
        _ => json!({"status": format!("{:?}", r.outcome)}),
    };
    let candidates: Vec<Value> = r
        .candidates
        .iter()
        .map(|c| {
            let rejection = match c.rejection {
                Some(Rejection::UnknownKey) if !view.with_keys => Value::Null,
                Some(rej) => rejection_json(rej),
                None => Value::Null,
            };
            json!({
                "header": c.header.as_ref().map(header_json).ok(),
                "headerError": c.header.err().map(rejection_json),
                "contents": c.contents.as_ref().map(contents_json),
                "rejection": rejection,
            })
        })
        .collect();
    pretty(&json!({
        "cookieName": view.name,
        "maxCookies": view.max_cookies,
        "withKeys": view.with_keys,
        "now": r.now,
        "headerBytes": r.header_bytes,
        "present": r.chunks.iter().map(|i| chunk_name(view.name, *i)).collect::<Vec<_>>(),
        "outcome": outcome,
        "candidates": candidates,
    }))
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("\"{e}\""));
    s.push('\n');
    s
}

/// `2026-11-22T05:40:00Z (1795412400, 3m ago)`.
fn when(t: u64, now: u64) -> String {
    let rel = if t >= now {
        format!("in {}", span(t - now))
    } else {
        format!("{} ago", span(now - t))
    };
    format!("{} ({t}, {rel})", utc(t))
}

fn span(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// RFC 3339 in UTC, from Unix seconds (days-to-civil, Howard Hinnant's algorithm).
fn utc(t: u64) -> String {
    let days = t / 86_400;
    let rem = t % 86_400;
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn spans() {
        assert_eq!(span(59), "59s");
        assert_eq!(span(3599), "59m 59s");
        assert_eq!(span(86_399), "23h 59m");
        assert_eq!(span(90_000), "1d 1h");
    }
}
