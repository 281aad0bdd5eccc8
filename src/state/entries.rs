//! The session map: keys to postcard-encoded values, in key order.
//!
//! An opened session's entries stay where they were read, in the opened body: decoding
//! indexes them (one allocation for the index, none per entry), and only an entry that is
//! written is copied out. Most requests read a few values and write none, so they never pay
//! for a map of owned strings they would drop at the end of the request.

use std::fmt;

use crate::error::Rejection;
use crate::wire::body::{self, write_varint};

/// The map of a session: its entries in ascending byte-wise key order, each key once.
#[derive(Clone, Default)]
pub(crate) struct Entries {
    /// The body an opened session was read from; [`Item::Read`] entries point into it.
    base: Vec<u8>,
    items: Vec<Item>,
}

#[derive(Clone)]
enum Item {
    /// An entry as the body holds it: the byte ranges of its key (checked UTF-8) and value.
    Read {
        key: (usize, usize),
        value: (usize, usize),
    },
    /// An entry written during this request.
    Written { key: Box<str>, value: Vec<u8> },
}

impl Entries {
    /// Indexes the `varint(n) || (varint(len) key varint(len) value)*n` map that starts at
    /// `at` in `body` (FORMAT.md, *Session bytes*), keeping `body`; returns the entries and
    /// where the map ends. Accepts what the reference reader (postcard into a `BTreeMap`)
    /// accepts: keys in any order, and a repeated key, whose last value counts.
    pub(crate) fn read(body: Vec<u8>, at: usize) -> Result<(Entries, usize), Rejection> {
        let mut pos = at;
        let n = read_len(&body, &mut pos)?;
        // Each entry takes at least two bytes: a count larger than that is a lie, refused
        // before it sizes an allocation.
        if n > body.len().saturating_sub(pos) / 2 {
            return Err(Rejection::BadPayload);
        }
        let mut items = Vec::with_capacity(n);
        let mut sorted = true;
        for _ in 0..n {
            let key = read_span(&body, &mut pos)?;
            let value = read_span(&body, &mut pos)?;
            let key_bytes = slice(&body, key);
            if std::str::from_utf8(key_bytes).is_err() {
                return Err(Rejection::BadPayload);
            }
            if let Some(Item::Read { key: last, .. }) = items.last() {
                sorted &= slice(&body, *last) < key_bytes;
            }
            items.push(Item::Read { key, value });
        }
        let mut entries = Entries { base: body, items };
        if !sorted {
            entries.sort_keeping_last();
        }
        Ok((entries, pos))
    }

    /// The bytes of the body after `end` (where [`read`](Entries::read) said the map ends).
    pub(crate) fn trailer(&self, end: usize) -> &[u8] {
        self.base.get(end..).unwrap_or_default()
    }

    /// Puts entries read out of order in key order; of a repeated key, the last one read
    /// stays (what inserting them one by one into a map does).
    fn sort_keeping_last(&mut self) {
        let base = &self.base;
        // Stable: entries of one key keep their order, so the last is the one read last.
        self.items
            .sort_by(|a, b| key_bytes(base, a).cmp(key_bytes(base, b)));
        let mut kept: Vec<Item> = Vec::with_capacity(self.items.len());
        for item in self.items.drain(..) {
            match kept.last_mut() {
                Some(last) if key_bytes(base, last) == key_bytes(base, &item) => *last = item,
                _ => kept.push(item),
            }
        }
        self.items = kept;
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.items
            .binary_search_by(|item| key_bytes(&self.base, item).cmp(key.as_bytes()))
    }

    /// The value bytes stored under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&[u8]> {
        let i = self.find(key).ok()?;
        self.items.get(i).map(|item| value_of(&self.base, item))
    }

    /// Stores `value` under `key`; returns whether anything changed (a different value, or a
    /// new key).
    pub(crate) fn set(&mut self, key: &str, value: Vec<u8>) -> bool {
        match self.find(key) {
            Ok(i) => {
                let Some(item) = self.items.get_mut(i) else {
                    return false;
                };
                if value_of(&self.base, item) == value.as_slice() {
                    return false;
                }
                *item = Item::Written {
                    key: key.into(),
                    value,
                };
                true
            }
            Err(i) => {
                self.items.insert(
                    i,
                    Item::Written {
                        key: key.into(),
                        value,
                    },
                );
                true
            }
        }
    }

    /// Removes `key`; returns whether it was there.
    pub(crate) fn remove(&mut self, key: &str) -> bool {
        match self.find(key) {
            Ok(i) => {
                self.items.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes every entry, and the body they were read from.
    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.base = Vec::new();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Every entry, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.items
            .iter()
            .map(|item| (key_of(&self.base, item), value_of(&self.base, item)))
    }

    /// Every key, in order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|item| key_of(&self.base, item))
    }
}

impl PartialEq for Entries {
    fn eq(&self, other: &Entries) -> bool {
        self.items.len() == other.items.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Entries {}

impl fmt::Debug for Entries {
    // Values may hold anything a user stores: only the keys are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys()).finish()
    }
}

impl Entries {
    /// Appends the map as postcard writes it (FORMAT.md, *Session bytes*): `varint(n)`, then
    /// each key and value with its length, in key order.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        write_varint(out, self.items.len() as u64);
        for item in &self.items {
            for part in [key_bytes(&self.base, item), value_of(&self.base, item)] {
                write_varint(out, part.len() as u64);
                out.extend_from_slice(part);
            }
        }
    }

    /// The bytes [`write_to`](Entries::write_to) appends, at most (each varint counted at
    /// its longest in practice: a session is far below 2^35 bytes).
    pub(crate) fn encoded_len_bound(&self) -> usize {
        self.iter()
            .map(|(k, v)| k.len() + v.len() + 10)
            .sum::<usize>()
            + 5
    }
}

fn slice(base: &[u8], (start, end): (usize, usize)) -> &[u8] {
    base.get(start..end).unwrap_or_default()
}

/// An entry's key as bytes: what lookups compare, without checking UTF-8 again.
fn key_bytes<'a>(base: &'a [u8], item: &'a Item) -> &'a [u8] {
    match item {
        Item::Read { key, .. } => slice(base, *key),
        Item::Written { key, .. } => key.as_bytes(),
    }
}

fn key_of<'a>(base: &'a [u8], item: &'a Item) -> &'a str {
    match item {
        // Checked UTF-8 when read; an empty key otherwise, which cannot happen.
        Item::Read { key, .. } => std::str::from_utf8(slice(base, *key)).unwrap_or_default(),
        Item::Written { key, .. } => key,
    }
}

fn value_of<'a>(base: &'a [u8], item: &'a Item) -> &'a [u8] {
    match item {
        Item::Read { value, .. } => slice(base, *value),
        Item::Written { value, .. } => value,
    }
}

/// A postcard varint (`u64`), as [`body::read_varint`] reads it.
pub(crate) fn read_varint(bytes: &[u8], pos: &mut usize) -> Result<u64, Rejection> {
    body::read_varint(bytes, pos).ok_or(Rejection::BadPayload)
}

fn read_len(bytes: &[u8], pos: &mut usize) -> Result<usize, Rejection> {
    usize::try_from(read_varint(bytes, pos)?).map_err(|_| Rejection::BadPayload)
}

/// A length-prefixed byte string: its range in `bytes`.
fn read_span(bytes: &[u8], pos: &mut usize) -> Result<(usize, usize), Rejection> {
    let len = read_len(bytes, pos)?;
    let start = *pos;
    let end = start.checked_add(len).ok_or(Rejection::BadPayload)?;
    if end > bytes.len() {
        return Err(Rejection::BadPayload);
    }
    *pos = end;
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(pairs: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = vec![pairs.len() as u8];
        for (k, v) in pairs {
            out.push(k.len() as u8);
            out.extend_from_slice(k.as_bytes());
            out.push(v.len() as u8);
            out.extend_from_slice(v);
        }
        out
    }

    #[test]
    fn read_entries_stay_in_the_body_until_written() {
        let (mut e, end) = Entries::read(body(&[("a", b"1"), ("b", b"22")]), 0).unwrap();
        assert_eq!(end, 10);
        assert_eq!(e.get("b"), Some(&b"22"[..]));
        assert!(!e.set("a", b"1".to_vec()), "the same value changes nothing");
        assert!(e.set("a", b"9".to_vec()));
        assert!(e.set("c", b"3".to_vec()));
        assert_eq!(
            e.iter().collect::<Vec<_>>(),
            [("a", &b"9"[..]), ("b", b"22"), ("c", b"3")]
        );
        assert!(e.remove("b") && !e.remove("b"));
        assert_eq!(e.keys().collect::<Vec<_>>(), ["a", "c"]);
        let (same, _) = Entries::read(body(&[("a", b"9"), ("c", b"3")]), 0).unwrap();
        assert_eq!(e, same, "equal by content, however held");
    }

    #[test]
    fn out_of_order_and_repeated_keys_read_as_a_map_would() {
        let (e, _) = Entries::read(body(&[("b", b"1"), ("a", b"2"), ("b", b"3")]), 0).unwrap();
        assert_eq!(
            e.iter().collect::<Vec<_>>(),
            [("a", &b"2"[..]), ("b", b"3")]
        );
    }

    #[test]
    fn malformed_maps_are_refused() {
        for bad in [
            vec![],
            vec![1],
            vec![1, 1, b'a'],
            vec![1, 1, b'a', 5, 1],
            vec![1, 1, 0xff, 0],
            vec![0xff; 11],
            vec![200, 0, 0],
        ] {
            assert_eq!(
                Entries::read(bad.clone(), 0).unwrap_err(),
                Rejection::BadPayload,
                "{bad:?}"
            );
        }
        let mut pos = 0;
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(read_varint(&max, &mut pos), Ok(u64::MAX));
        let mut over = max;
        over[9] = 2;
        assert!(read_varint(&over, &mut 0).is_err());
        assert_eq!(
            read_varint(&[0x80, 0x00], &mut 0),
            Ok(0),
            "non-minimal accepted"
        );
    }
}

/// The reference reader the format names (postcard into a `BTreeMap` of byte strings),
/// against which [`Entries::read`] is checked on arbitrary input.
#[cfg(test)]
mod reference {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Deserialize;

    use super::*;

    struct ByteString(Vec<u8>);

    impl<'de> Deserialize<'de> for ByteString {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ByteString, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = ByteString;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<ByteString, E> {
                    Ok(ByteString(v.to_vec()))
                }
            }
            d.deserialize_bytes(V)
        }
    }

    /// The entries read, and where the map ends; `None` when refused.
    type Read = Option<(Vec<(String, Vec<u8>)>, usize)>;

    fn by_postcard(bytes: &[u8]) -> Read {
        let (map, rest) = postcard::take_from_bytes::<BTreeMap<String, ByteString>>(bytes).ok()?;
        let pairs = map.into_iter().map(|(k, v)| (k, v.0)).collect();
        Some((pairs, bytes.len() - rest.len()))
    }

    fn by_entries(bytes: &[u8]) -> Read {
        let (e, end) = Entries::read(bytes.to_vec(), 0).ok()?;
        let pairs = e.iter().map(|(k, v)| (k.to_owned(), v.to_vec())).collect();
        Some((pairs, end))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_bytes_read_as_postcard_reads_them(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(by_entries(&bytes), by_postcard(&bytes));
        }

        #[test]
        fn any_map_is_written_as_postcard_writes_it(
            pairs in proptest::collection::vec(("[a-c\\x00]{0,3}", proptest::collection::vec(any::<u8>(), 0..200)), 0..8),
        ) {
            #[derive(serde::Serialize)]
            struct Bytes(#[serde(with = "bytes")] Vec<u8>);
            mod bytes {
                pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_bytes(v)
                }
            }
            let mut entries = Entries::default();
            let mut map = BTreeMap::new();
            for (k, v) in &pairs {
                entries.set(k, v.clone());
                map.insert(k.clone(), Bytes(v.clone()));
            }
            let mut ours = Vec::new();
            entries.write_to(&mut ours);
            prop_assert_eq!(&ours, &postcard::to_allocvec(&map).unwrap());
            prop_assert!(ours.len() <= entries.encoded_len_bound());
            prop_assert_eq!(by_entries(&ours), by_postcard(&ours));
        }

        #[test]
        fn any_map_written_in_any_order_reads_as_postcard_reads_it(
            pairs in proptest::collection::vec(("[a-c]{0,3}", proptest::collection::vec(any::<u8>(), 0..4)), 0..8),
        ) {
            #[derive(serde::Serialize)]
            struct Bytes<'a>(#[serde(with = "bytes")] &'a [u8]);
            mod bytes {
                pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_bytes(v)
                }
            }
            let list: Vec<(&str, Bytes<'_>)> =
                pairs.iter().map(|(k, v)| (k.as_str(), Bytes(v))).collect();
            let bytes = postcard::to_allocvec(&list).unwrap();
            prop_assert_eq!(by_entries(&bytes), by_postcard(&bytes));
        }
    }
}
