//! The plaintext inside a sealed value: a flags byte, then the session bytes, LZ4-compressed
//! when that makes them smaller; inflating is bounded by [`MAX_PLAINTEXT`].

use crate::error::Rejection;

/// The hard cap on an opened body, compressed or not: no cookie can make the server hold
/// more than this many plaintext bytes. 256 KiB is far above what fits in cookies
/// (browsers keep about 180 cookies of 4 KB per site, and servers cap request headers
/// lower still), so only a hostile value comes near it.
pub const MAX_PLAINTEXT: usize = 256 * 1024;

/// Bodies shorter than this are never compressed. Below about half a kilobyte LZ4 saves a
/// few dozen bytes (4 % of the profile workload) for more CPU than the AEAD itself (lz4_flex
/// sets up an 8 KB hash table per call), and such cookies are nowhere near the 4 KB limit
/// that compression is for.
pub const COMPRESS_MIN: usize = 512;

pub(super) const FLAG_LZ4: u8 = 0b0000_0001;

const KNOWN_FLAGS: u8 = FLAG_LZ4;

/// Whether to compress session bodies before sealing.
///
/// Compression makes large sessions fit in fewer cookies, but the length of a compressed
/// value reveals how much of it repeats. If an attacker can put chosen data into a session
/// that also holds a secret (say, a search term next to a CSRF token) and watch the cookie's
/// length, they can guess the secret piece by piece (the CRIME/BREACH class of attacks). Turn
/// compression off for such sessions.
///
/// ```
/// use sealed_session::Compression;
/// assert_eq!(Compression::default(), Compression::Auto);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compression {
    /// Compress with LZ4 bodies of at least 512 bytes, and keep the result only
    /// when it is strictly smaller.
    #[default]
    Auto,
    /// Never compress.
    Off,
}

/// Appends `flags = LZ4 || varint(len) || lz4(body)` after the flags placeholder at
/// `out[hlen]`, if that is strictly shorter than the plain body. Returns whether it did.
pub(super) fn compress_into(body: &[u8], out: &mut Vec<u8>, hlen: usize) -> bool {
    if body.len() > MAX_PLAINTEXT {
        return false; // it could never be opened compressed; leave it plain (and too large)
    }
    let start = out.len();
    write_varint(out, body.len() as u64);
    let prefix = out.len() - start;
    let bound = lz4_flex::block::get_maximum_output_size(body.len());
    out.resize(start + prefix + bound, 0);
    match lz4_flex::block::compress_into(body, &mut out[start + prefix..]) {
        Ok(n) if prefix + n < body.len() => {
            out.truncate(start + prefix + n);
            out[hlen] = FLAG_LZ4;
            true
        }
        _ => false,
    }
}

/// Turns an authenticated plaintext (`flags || body`) into the body: checks the flags and
/// inflates, bounded by [`MAX_PLAINTEXT`].
///
/// This is the first step that runs on bytes that passed the tag. The fuzz harness reaches it
/// through `internals` (feature `__fuzzing`), since random bytes never pass the tag.
#[cfg(any(test, feature = "__fuzzing"))]
pub(crate) fn decode_plaintext(plain: Vec<u8>) -> Result<Vec<u8>, Rejection> {
    decode_plaintext_at(plain, 0)
}

/// [`decode_plaintext`] of the plaintext that starts at `start` in `buf` (after the header
/// in a just-opened value), so that a plain body is moved to the front once, not twice.
pub(super) fn decode_plaintext_at(mut buf: Vec<u8>, start: usize) -> Result<Vec<u8>, Rejection> {
    let plain = buf.get(start..).unwrap_or_default();
    let flags = *plain.first().ok_or(Rejection::TooShort)?;
    if flags & !KNOWN_FLAGS != 0 {
        return Err(Rejection::BadFlags);
    }
    if flags & FLAG_LZ4 == 0 {
        if plain.len() - 1 > MAX_PLAINTEXT {
            return Err(Rejection::TooLong);
        }
        buf.drain(..=start);
        return Ok(buf);
    }
    let rest = plain.get(1..).unwrap_or_default();
    let (len, used) = read_minimal_varint(rest).ok_or(Rejection::BadCompression)?;
    let len = usize::try_from(len).map_err(|_| Rejection::BadCompression)?;
    if len > MAX_PLAINTEXT {
        return Err(Rejection::BadCompression);
    }
    let block = rest.get(used..).unwrap_or_default();
    // Any LZ4 block expands at most 255:1; refusing impossible ratios before allocating keeps
    // the allocation proportional to the input as well as capped.
    if len > block.len().saturating_mul(255) {
        return Err(Rejection::BadCompression);
    }
    let mut out = vec![0u8; len];
    match lz4_flex::block::decompress_into(block, &mut out) {
        Ok(n) if n == len => Ok(out),
        _ => Err(Rejection::BadCompression),
    }
}

/// LEB128, at most 10 bytes (a `u64`), minimal: postcard's varint, and the LZ4 length prefix.
pub(crate) fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads the LEB128 `u64` at `*pos` as postcard reads it (at most 10 bytes, the tenth at most
/// 1; non-minimal encodings accepted), moving `pos` past it; `None` on overflow or truncation.
/// The one varint reader: the session bytes use it as is, the LZ4 length prefix through
/// [`read_minimal_varint`].
pub(crate) fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut out = 0u64;
    for i in 0..10 {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        if i == 9 && byte > 1 {
            return None;
        }
        out |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some(out);
        }
    }
    None
}

/// [`read_varint`] at the start of `bytes`, refusing non-minimal encodings so that each
/// length has exactly one; returns the value and the bytes it took.
fn read_minimal_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut used = 0;
    let v = read_varint(bytes, &mut used)?;
    // A final zero byte after others adds nothing: a longer spelling of a shorter varint.
    if used > 1 && bytes.get(used - 1) == Some(&0) {
        return None;
    }
    Some((v, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip_and_strictness() {
        for v in [0u64, 1, 127, 128, 300, 65_536, u64::MAX] {
            let mut buf = Vec::new();
            write_varint(&mut buf, v);
            assert_eq!(read_minimal_varint(&buf), Some((v, buf.len())));
        }
        assert_eq!(read_minimal_varint(&[0x80]), None);
        assert_eq!(read_minimal_varint(&[0x80, 0x00]), None, "non-minimal");
        assert_eq!(read_minimal_varint(&[0xff; 11]), None);
    }

    #[test]
    fn inflate_cap_exact_and_one_over() {
        let compressed = |len: usize| {
            let body = vec![0u8; len];
            let mut plain = vec![FLAG_LZ4];
            write_varint(&mut plain, len as u64);
            plain.extend_from_slice(&lz4_flex::block::compress(&body));
            plain
        };
        assert_eq!(
            decode_plaintext(compressed(MAX_PLAINTEXT)).unwrap().len(),
            MAX_PLAINTEXT
        );
        assert_eq!(
            decode_plaintext(compressed(MAX_PLAINTEXT + 1)),
            Err(Rejection::BadCompression)
        );
        // A length prefix that lies (larger than the block inflates to) is rejected.
        let mut lie = compressed(1000);
        lie[1] = 0xe9; // 1001 = 0xe9 0x07
        assert_eq!(decode_plaintext(lie), Err(Rejection::BadCompression));
        // A huge declared length with a tiny block is refused before allocating.
        let mut plain = vec![FLAG_LZ4];
        write_varint(&mut plain, 200_000);
        plain.extend_from_slice(&[0x10, 0x61]);
        assert_eq!(decode_plaintext(plain), Err(Rejection::BadCompression));
    }

    #[test]
    fn unknown_flags_and_empty_plaintext() {
        assert_eq!(decode_plaintext(vec![0x02, 1]), Err(Rejection::BadFlags));
        assert_eq!(decode_plaintext(vec![]), Err(Rejection::TooShort));
        assert_eq!(decode_plaintext(vec![0x00, 9]).unwrap(), vec![9]);
    }
}
