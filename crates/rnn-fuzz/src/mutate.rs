//! Structure-aware mutation of valid seed inputs, every draw from a seeded
//! ChaCha generator ([`rnn_core::SeededRng`]).
//!
//! A mutated input is a seed with one to four edits stacked: bit flips,
//! interesting bytes and numbers (0, ±1, powers of two, `u64::MAX`, NaN,
//! ±inf, subnormals, `f64::MAX`) written over the bytes, truncation, random
//! tails, deletions, duplications, splices with another seed, and, per input
//! format ([`Format`]):
//!
//! - framed files (`io.rs`): edits aimed at the payload, the length field and
//!   bincode's variable-length integers, then usually a re-frame (length and
//!   CRC-32 fixed up) so that the edit reaches the decoder behind the checksum;
//! - text (TOML, shard specs): numbers replaced by interesting ones (`nan`,
//!   `-inf`, `1e308`, `5e-324`, `-0.0`, `18446744073709551615`, ...), lines
//!   deleted, duplicated or spliced from another seed, keys and values
//!   swapped between seeds;
//! - `.npy`: edits in the header text (shape, dtype, order) as in text, and
//!   in the data (NaN, ±inf, subnormals).

use rand::RngExt;
use rnn_core::SeededRng;

/// How a target's inputs are structured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Raw bytes read as a structure (sizes, numbers) by the target.
    Bytes,
    /// A framed file of `rnn_core::io` (28-byte header, bincode payload).
    Framed,
    /// UTF-8 text (TOML, `i/n`).
    Text,
    /// A numpy `.npy` file (text header, binary data).
    Npy,
}

/// Interesting `f64`s: zeros, ones, extremes, subnormals, non-finite.
pub const INTERESTING_F64: [f64; 16] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MAX,
    f64::MIN,
    f64::MIN_POSITIVE,
    5e-324,
    -5e-324,
    1e300,
    f64::EPSILON,
    2.0,
];

/// Interesting `u64`s: small, boundaries of every integer width, huge.
pub const INTERESTING_U64: [u64; 16] = [
    0,
    1,
    2,
    3,
    7,
    250,
    251,
    255,
    65_535,
    65_536,
    (1 << 31) - 1,
    1 << 32,
    1 << 40,
    (1 << 63) - 1,
    1 << 63,
    u64::MAX,
];

/// Interesting numbers as TOML text.
const INTERESTING_TEXT: [&str; 24] = [
    "0",
    "1",
    "-1",
    "2",
    "0.0",
    "-0.0",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "+inf",
    "1e308",
    "-1e308",
    "5e-324",
    "2.2250738585072014e-308",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "1e999",
    "0.03",
    "true",
    "\"\"",
    "[]",
];

/// The mutation engine.
pub struct Mutator {
    rng: SeededRng,
}

impl Mutator {
    /// A mutator drawing from stream `stream` of `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        Self {
            rng: rnn_core::seeded_stream(seed, stream),
        }
    }

    /// A number in `0..n` (`n >= 1`).
    pub fn below(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n.max(1))
    }

    /// A fresh input: a seed from `corpus` with one to four stacked edits.
    pub fn mutant(&mut self, corpus: &[Vec<u8>], format: Format) -> Vec<u8> {
        let mut input = corpus[self.below(corpus.len())].clone();
        let edits = 1 + self.below(4);
        for _ in 0..edits {
            self.edit(&mut input, corpus, format);
        }
        if format == Format::Framed && self.below(10) < 8 {
            reframe(&mut input);
        }
        input
    }

    fn edit(&mut self, input: &mut Vec<u8>, corpus: &[Vec<u8>], format: Format) {
        match format {
            Format::Text if self.below(3) > 0 => self.text_edit(input, corpus),
            Format::Npy if self.below(2) == 0 => {
                // The header (up to the first newline) is text.
                let end = input
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(input.len(), |p| p + 1);
                let mut header = input[..end].to_vec();
                let tail = input.split_off(end);
                self.text_edit(&mut header, corpus);
                *input = header;
                input.extend(tail);
            }
            Format::Framed if self.below(2) == 0 => self.framed_edit(input),
            _ => self.byte_edit(input, corpus),
        }
    }

    /// An offset in `0..len` (0 when `len` is 0).
    fn offset(&mut self, len: usize) -> usize {
        self.below(len.max(1))
    }

    fn byte_edit(&mut self, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
        let len = input.len();
        match self.below(11) {
            0 if len > 0 => {
                let at = self.offset(len);
                input[at] ^= 1 << self.below(8);
            }
            1 if len > 0 => {
                let at = self.offset(len);
                input[at] = [0, 1, 0x7f, 0x80, 0xff, 0xfb, 0xfc, 0xfd][self.below(8)];
            }
            2 => {
                let at = self.offset(len + 1);
                input.truncate(at);
            }
            3 => {
                let extra = self.below(17);
                for _ in 0..extra {
                    input.push(self.rng.random());
                }
            }
            4 if len > 0 => {
                let at = self.offset(len);
                let n = self.below(len - at + 1).min(16);
                input.drain(at..at + n);
            }
            5 if len > 0 => {
                let at = self.offset(len);
                let n = self.below(len - at + 1).min(64);
                let chunk = input[at..at + n].to_vec();
                let to = self.offset(len + 1);
                input.splice(to..to, chunk);
            }
            6 => {
                // Splice: a prefix of this input with a suffix of another seed.
                let other = &corpus[self.below(corpus.len())];
                let cut = self.offset(len + 1);
                let from = self.below(other.len() + 1);
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            7 => {
                let value = INTERESTING_F64[self.below(INTERESTING_F64.len())];
                self.overwrite(input, &value.to_le_bytes());
            }
            8 => {
                let value = INTERESTING_U64[self.below(INTERESTING_U64.len())];
                let bytes = value.to_le_bytes();
                let width = [1, 2, 4, 8][self.below(4)];
                self.overwrite(input, &bytes[..width]);
            }
            _ => {
                let at = self.offset(len + 1);
                input.insert(at, self.rng.random());
            }
        }
    }

    fn overwrite(&mut self, input: &mut Vec<u8>, bytes: &[u8]) {
        if input.len() < bytes.len() {
            input.extend_from_slice(bytes);
            return;
        }
        let at = self.below(input.len() - bytes.len() + 1);
        input[at..at + bytes.len()].copy_from_slice(bytes);
    }

    /// Edits aimed at a framed file: the length field, the payload, and
    /// bincode's variable-length integers (one byte `< 251`, else a marker
    /// 251/252/253 and 2, 4 or 8 little-endian bytes).
    fn framed_edit(&mut self, input: &mut Vec<u8>) {
        const HEADER: usize = 28;
        if input.len() <= HEADER {
            let extra = self.below(64);
            for _ in 0..extra {
                input.push(self.rng.random());
            }
            return;
        }
        let at = HEADER + self.below(input.len() - HEADER);
        match self.below(5) {
            0 => {
                // A varint marker with a huge value: a length field claiming gigabytes.
                let value = INTERESTING_U64[self.below(INTERESTING_U64.len())];
                let mut bytes = vec![253u8];
                bytes.extend_from_slice(&value.to_le_bytes());
                input.splice(at..at, bytes);
            }
            1 => {
                let value = INTERESTING_U64[self.below(INTERESTING_U64.len())] as u32;
                let mut bytes = vec![252u8];
                bytes.extend_from_slice(&value.to_le_bytes());
                let end = (at + 1).min(input.len());
                input.splice(at..end, bytes);
            }
            2 => {
                // A small integer changed by a little.
                input[at] = input[at].wrapping_add([1, 255, 2, 254][self.below(4)]);
            }
            3 => {
                let value = INTERESTING_F64[self.below(INTERESTING_F64.len())];
                let end = (at + 8).min(input.len());
                input.splice(at..end, value.to_le_bytes());
            }
            _ => {
                // The header's payload length.
                let value = INTERESTING_U64[self.below(INTERESTING_U64.len())];
                input[16..24].copy_from_slice(&value.to_le_bytes());
            }
        }
    }

    fn text_edit(&mut self, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
        let text = String::from_utf8_lossy(input).into_owned();
        let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        match self.below(7) {
            0..=2 => {
                // Replace a number (a run of digits, signs, dots, e) or a word.
                let spans = number_spans(&text);
                if spans.is_empty() {
                    return self.byte_edit(input, corpus);
                }
                let (start, end) = spans[self.below(spans.len())];
                let new = INTERESTING_TEXT[self.below(INTERESTING_TEXT.len())];
                let mut out = text[..start].to_owned();
                out.push_str(new);
                out.push_str(&text[end..]);
                *input = out.into_bytes();
                return;
            }
            3 if !lines.is_empty() => {
                let at = self.below(lines.len());
                lines.remove(at);
            }
            4 if !lines.is_empty() => {
                let at = self.below(lines.len());
                let line = lines[at].clone();
                lines.insert(at, line);
            }
            5 => {
                // A line from another seed.
                let other = String::from_utf8_lossy(&corpus[self.below(corpus.len())]).into_owned();
                let other: Vec<&str> = other.split('\n').collect();
                let line = other[self.below(other.len())].to_owned();
                let at = self.below(lines.len() + 1);
                lines.insert(at, line);
            }
            _ => {
                // Swap the values of two `key = value` lines.
                let with_eq: Vec<usize> = (0..lines.len())
                    .filter(|&i| lines[i].contains('='))
                    .collect();
                if with_eq.len() >= 2 {
                    let a = with_eq[self.below(with_eq.len())];
                    let b = with_eq[self.below(with_eq.len())];
                    let value = |l: &str| l.split_once('=').map(|(_, v)| v.to_owned()).unwrap();
                    let key = |l: &str| l.split_once('=').map(|(k, _)| k.to_owned()).unwrap();
                    let (va, vb) = (value(&lines[a]), value(&lines[b]));
                    lines[a] = format!("{}={vb}", key(&lines[a]));
                    lines[b] = format!("{}={va}", key(&lines[b]));
                }
            }
        }
        *input = lines.join("\n").into_bytes();
    }
}

/// Byte ranges of numbers and bare words in `text`.
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit()
            || (bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if starts {
            let start = i;
            i += 1;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric()
                    || matches!(bytes[i], b'.' | b'_' | b'+' | b'-'))
            {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

/// Fixes a framed file's payload length and CRC-32 after its payload was
/// edited (no-op for inputs shorter than the header).
pub fn reframe(input: &mut [u8]) {
    const HEADER: usize = 28;
    if input.len() < HEADER {
        return;
    }
    let payload_len = (input.len() - HEADER) as u64;
    let crc = crc32fast::hash(&input[HEADER..]);
    input[16..24].copy_from_slice(&payload_len.to_le_bytes());
    input[24..28].copy_from_slice(&crc.to_le_bytes());
}

/// Reads a structure from raw bytes, like `arbitrary`'s `Unstructured`: each
/// call takes the next bytes, and an exhausted input gives zeros.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// The next byte (0 when exhausted).
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// A boolean.
    pub fn bool(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A size: mostly small (`0..=max_small`), sometimes huge (16385, just
    /// past the largest square network, up to `usize::MAX`), so that both
    /// real allocations and overflowing shapes are tried.
    pub fn size(&mut self, max_small: usize) -> usize {
        let b = self.byte();
        if b < 232 {
            b as usize % (max_small + 1)
        } else {
            const HUGE: [usize; 8] = [
                16_385,
                1 << 25,
                3_037_000_500, // about sqrt(2^63)
                1 << 32,
                1 << 40,
                isize::MAX as usize,
                usize::MAX - 1,
                usize::MAX,
            ];
            HUGE[b as usize % HUGE.len()]
        }
    }

    /// A float: half the time an interesting one, else eight raw bytes.
    pub fn f64(&mut self) -> f64 {
        let b = self.byte();
        if b < 128 {
            INTERESTING_F64[b as usize % INTERESTING_F64.len()]
        } else if b < 192 {
            // Moderate values: (b - 160) / 8.
            (f64::from(b) - 160.0) / 8.0
        } else {
            let mut raw = [0u8; 8];
            for r in &mut raw {
                *r = self.byte();
            }
            f64::from_le_bytes(raw)
        }
    }

    /// A `u64`.
    pub fn u64(&mut self) -> u64 {
        let mut raw = [0u8; 8];
        for r in &mut raw {
            *r = self.byte();
        }
        u64::from_le_bytes(raw)
    }
}
