//! Files: a framed, checksummed container around a serde payload.
//!
//! Layout (little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `b"RFLORNN\0"` |
//! | 4 | format version ([`FORMAT_VERSION`]) |
//! | 4 | kind tag (e.g. `b"NETW"`) |
//! | 8 | payload length |
//! | 4 | CRC-32 of the payload |
//! | n | payload: bincode 2 (serde, standard config) |
//!
//! This is the only module that knows the encoding, so the codec can be
//! swapped (bincode is unmaintained) without touching callers. Writes go to a
//! temporary file in the same folder, are synced, then renamed into place, so
//! a reader never sees a half-written file. Reading checks magic, version,
//! kind, length and checksum before decoding: truncated, corrupted or foreign
//! files give [`CoreError::CorruptFile`] or [`CoreError::WrongFileKind`].

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use faer::{Mat, MatRef};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::NetworkConfig;
use crate::error::{CoreError, Result};
use crate::network::{Network, Weights};

/// Magic bytes at the start of every file written by this project.
pub const MAGIC: [u8; 8] = *b"RFLORNN\0";
/// Current container format version.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 4 + 8 + 4;
/// Memory the decoder may claim per payload byte. bincode's limit counts
/// the in-memory size of what it decodes (8 bytes for a `usize` written as
/// one varint byte, 16 for a `u128`, a string's length before its bytes are
/// read), so a valid payload claims at most 16 bytes per byte; anything
/// beyond is a length field larger than the data behind it.
const CLAIM_PER_BYTE: usize = 16;

/// What a file holds: a four-byte tag checked on read.
///
/// Other crates define their own kinds (e.g. a training checkpoint) as
/// constants of this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKind(pub [u8; 4]);

impl FileKind {
    /// A [`NetworkConfig`].
    pub const CONFIG: FileKind = FileKind(*b"CONF");
    /// A [`Network`] (config and weights).
    pub const NETWORK: FileKind = FileKind(*b"NETW");
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "kind {:?}", String::from_utf8_lossy(&self.0))
    }
}

/// A matrix in serialisable form: its shape and its entries column by column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixData {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Entries in column-major order, `rows * cols` of them.
    pub data: Vec<f64>,
}

impl MatrixData {
    /// Copies a matrix.
    pub fn from_mat(m: MatRef<'_, f64>) -> Self {
        let mut data = Vec::with_capacity(m.nrows() * m.ncols());
        for col in 0..m.ncols() {
            for row in 0..m.nrows() {
                data.push(m[(row, col)]);
            }
        }
        Self {
            rows: m.nrows(),
            cols: m.ncols(),
            data,
        }
    }

    /// Rebuilds the matrix; `None` if the entry count does not match the
    /// shape, or if an empty matrix claims a side longer than 2^16 (a
    /// non-empty matrix's sides are bounded by its entries; an empty one's
    /// are not, and rebuilding a `0 × 10^15` matrix loops over its columns
    /// for hours; no network has such a side, see [`crate::MAX_WEIGHTS`]).
    pub fn to_mat(&self) -> Option<Mat<f64>> {
        const MAX_EMPTY_SIDE: usize = 1 << 16;
        let sides_fit = self.rows.max(self.cols) <= self.data.len().max(MAX_EMPTY_SIDE);
        (sides_fit && self.rows.checked_mul(self.cols) == Some(self.data.len()))
            .then(|| Mat::from_fn(self.rows, self.cols, |i, j| self.data[i + j * self.rows]))
    }
}

/// Encodes `value` into the framed container.
pub fn encode<T: Serialize>(kind: FileKind, value: &T) -> Result<Vec<u8>> {
    let payload = bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| CoreError::Encode(e.to_string()))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&kind.0);
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    Ok(bytes)
}

/// Decodes a framed container; `path` only labels errors.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], kind: FileKind, path: &Path) -> Result<T> {
    let corrupt = |reason: String| CoreError::CorruptFile {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.len() < HEADER_LEN || bytes[..8] != MAGIC {
        return Err(corrupt(
            "not a file of this project (no magic header)".into(),
        ));
    }
    let field = |from: usize, to: usize| -> &[u8] { &bytes[from..to] };
    let version = u32::from_le_bytes(field(8, 12).try_into().expect("4 bytes"));
    let found_kind = FileKind(field(12, 16).try_into().expect("4 bytes"));
    let declared_len = u64::from_le_bytes(field(16, 24).try_into().expect("8 bytes"));
    let checksum = u32::from_le_bytes(field(24, 28).try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(CoreError::WrongFileKind {
            path: path.to_path_buf(),
            expected: format!("format version {FORMAT_VERSION}"),
            found: format!("format version {version}"),
        });
    }
    if found_kind != kind {
        return Err(CoreError::WrongFileKind {
            path: path.to_path_buf(),
            expected: kind.to_string(),
            found: found_kind.to_string(),
        });
    }
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != declared_len {
        return Err(corrupt(format!(
            "truncated or padded: header declares {declared_len} payload bytes, file has {}",
            payload.len()
        )));
    }
    if crc32fast::hash(payload) != checksum {
        return Err(corrupt("checksum mismatch: the file is corrupted".into()));
    }
    let (value, used) =
        decode_payload(payload).map_err(|e| corrupt(format!("payload does not decode: {e}")))?;
    if used != payload.len() {
        return Err(corrupt("trailing bytes after the payload".into()));
    }
    Ok(value)
}

/// Decodes a bincode payload, letting the decoder claim (allocate) at most
/// [`CLAIM_PER_BYTE`] bytes per payload byte, rounded up to a power of four
/// (at least 4 KiB), so that a length field cannot make it reserve more
/// memory than the payload justifies.
///
/// bincode takes its limit as a type parameter, hence the dispatch over a
/// fixed ladder of limits.
fn decode_payload<T: DeserializeOwned>(
    payload: &[u8],
) -> std::result::Result<(T, usize), bincode::error::DecodeError> {
    fn with_limit<T: DeserializeOwned, const LIMIT: usize>(
        payload: &[u8],
    ) -> std::result::Result<(T, usize), bincode::error::DecodeError> {
        let config = bincode::config::standard().with_limit::<LIMIT>();
        bincode::serde::decode_from_slice(payload, config)
    }
    let need = payload.len().saturating_mul(CLAIM_PER_BYTE);
    match need {
        n if n <= 1 << 12 => with_limit::<T, { 1 << 12 }>(payload),
        n if n <= 1 << 14 => with_limit::<T, { 1 << 14 }>(payload),
        n if n <= 1 << 16 => with_limit::<T, { 1 << 16 }>(payload),
        n if n <= 1 << 18 => with_limit::<T, { 1 << 18 }>(payload),
        n if n <= 1 << 20 => with_limit::<T, { 1 << 20 }>(payload),
        n if n <= 1 << 22 => with_limit::<T, { 1 << 22 }>(payload),
        n if n <= 1 << 24 => with_limit::<T, { 1 << 24 }>(payload),
        n if n <= 1 << 26 => with_limit::<T, { 1 << 26 }>(payload),
        n if n <= 1 << 28 => with_limit::<T, { 1 << 28 }>(payload),
        n if n <= 1 << 30 => with_limit::<T, { 1 << 30 }>(payload),
        n if n <= 1 << 32 => with_limit::<T, { 1 << 32 }>(payload),
        n if n <= 1 << 34 => with_limit::<T, { 1 << 34 }>(payload),
        n if n <= 1 << 36 => with_limit::<T, { 1 << 36 }>(payload),
        _ => with_limit::<T, { usize::MAX }>(payload),
    }
}

/// Writes `value` to `path` atomically (temporary file, sync, rename).
pub fn write_file<T: Serialize>(path: &Path, kind: FileKind, value: &T) -> Result<()> {
    write_atomic(path, &encode(kind, value)?)
}

/// Reads a value of `kind` from `path`.
pub fn read_file<T: DeserializeOwned>(path: &Path, kind: FileKind) -> Result<T> {
    let bytes = fs::read(path).map_err(|source| io_error(path, source))?;
    decode(&bytes, kind, path)
}

/// Writes `bytes` to `path` through a temporary file renamed into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temporary_path(path);
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|source| {
        // Best effort: the temporary file is ours and now useless.
        let _ = fs::remove_file(&tmp);
        io_error(path, source)
    })
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

fn io_error(path: &Path, source: std::io::Error) -> CoreError {
    CoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Serialize, Deserialize)]
struct NetworkData {
    config: NetworkConfig,
    recurrent: MatrixData,
    input: MatrixData,
    readout: MatrixData,
    feedback: MatrixData,
}

impl NetworkConfig {
    /// Saves the config to `path` (atomic write).
    pub fn save(&self, path: &Path) -> Result<()> {
        write_file(path, FileKind::CONFIG, self)
    }

    /// Loads and validates a config saved by [`NetworkConfig::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let config: Self = read_file(path, FileKind::CONFIG)?;
        config.validate()?;
        Ok(config)
    }
}

impl Network {
    /// Saves config and weights to `path` (atomic write).
    pub fn save(&self, path: &Path) -> Result<()> {
        let w = self.weights();
        let data = NetworkData {
            config: self.config().clone(),
            recurrent: MatrixData::from_mat(w.recurrent.as_ref()),
            input: MatrixData::from_mat(w.input.as_ref()),
            readout: MatrixData::from_mat(w.readout.as_ref()),
            feedback: MatrixData::from_mat(w.feedback.as_ref()),
        };
        write_file(path, FileKind::NETWORK, &data)
    }

    /// Loads a network saved by [`Network::save`], validating config, shapes
    /// and finiteness.
    pub fn load(path: &Path) -> Result<Self> {
        let data: NetworkData = read_file(path, FileKind::NETWORK)?;
        let to_mat = |what: &str, m: &MatrixData| {
            m.to_mat().ok_or_else(|| CoreError::CorruptFile {
                path: path.to_path_buf(),
                reason: format!("{what}: entry count does not match its shape"),
            })
        };
        let weights = Weights {
            recurrent: to_mat("W", &data.recurrent)?,
            input: to_mat("W_in", &data.input)?,
            readout: to_mat("W_out", &data.readout)?,
            feedback: to_mat("B", &data.feedback)?,
        };
        Network::from_weights(&data.config, weights)
    }
}
