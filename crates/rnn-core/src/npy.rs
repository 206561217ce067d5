//! Reading numpy `.npy` files: arrays, [`Trial`]s and [`Network`]s.
//!
//! The counterpart of [`export`](crate::export). Only `float64` arrays are
//! read (little- or big-endian, C or Fortran order); anything else is a typed
//! error, never a panic:
//!
//! | problem | error |
//! |---|---|
//! | missing or unreadable file | [`CoreError::Io`] (`source.kind()` tells which) |
//! | not a `.npy` file, truncated, trailing bytes | [`CoreError::CorruptFile`] |
//! | another dtype (`float32`, integers, objects, records) | [`CoreError::NpyDtype`] |
//! | wrong number of axes or wrong axis length | [`CoreError::NpyShape`] |
//! | NaN or infinity | [`CoreError::NpyNonFinite`] |
//!
//! Everything built from the arrays then goes through the in-memory
//! constructors ([`Trial::from_columns`], [`Network::from_weights`]), so a
//! mask entry other than 0 or 1 is [`CoreError::InvalidMask`] and an invalid
//! `config.json` is [`CoreError::InvalidConfig`], exactly as in memory.
//!
//! Layout conventions are those of [`export`](crate::export) and of neurogym /
//! PsychRNN: time along the first axis of a trial.
//!
//! ```
//! use rnn_core::{InitialState, Network, NetworkConfig, seeded};
//! use rnn_core::export::{export_network, write_npy, write_npy_vector};
//! use faer::Mat;
//!
//! let dir = std::env::temp_dir().join(format!("rnn-core-npy-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! // A trial of T = 50 steps with 3 inputs and 1 output, as numpy would save it.
//! write_npy(&dir.join("x.npy"), Mat::<f64>::zeros(50, 3).as_ref())?;
//! write_npy(&dir.join("y.npy"), Mat::<f64>::ones(50, 1).as_ref())?;
//! let trial = rnn_core::npy::read_trial(
//!     Some(&dir.join("x.npy")), &dir.join("y.npy"), None, InitialState::Constant(0.0))?;
//! assert_eq!((trial.len(), trial.n_inputs(), trial.n_outputs()), (50, 3, 1));
//!
//! // Weights written by `export_network` load back into the identical network.
//! let net = Network::random(&NetworkConfig::new(20, 3, 1), &mut seeded(1))?;
//! export_network(&dir.join("net"), &net)?;
//! assert_eq!(rnn_core::npy::read_network(&dir.join("net"))?, net);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::Path;

use faer::Mat;
use npyz::{DType, NpyFile, Order, TypeChar};

use crate::config::NetworkConfig;
use crate::error::{CoreError, Result};
use crate::network::{Network, Weights};
use crate::trial::{InitialState, Trial};

/// A `float64` array read from a `.npy` file: its shape and its entries in
/// C (row-major) order, whatever the file's order. Every entry is finite.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    shape: Vec<usize>,
    data: Vec<f64>,
}

impl NpyArray {
    /// The shape, one length per axis (empty for a 0-d array).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The entries in C order (last axis fastest).
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// The entries in C order, by value.
    pub fn into_data(self) -> Vec<f64> {
        self.data
    }
}

/// Reads a `float64` `.npy` file of any rank, checking that every entry is finite.
pub fn read_npy(path: &Path) -> Result<NpyArray> {
    let bytes = std::fs::read(path).map_err(|source| CoreError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_npy(&bytes, path)
}

/// The shape of a `float64` `.npy` file, reading only its header (cheap for
/// large files). Checks the magic, the header and the dtype, not the data:
/// [`read_npy`] still reports truncation and non-finite entries.
pub fn read_npy_shape(path: &Path) -> Result<Vec<usize>> {
    use std::io::Read;
    let io_error = |source| CoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    // Magic, version and header length (2 bytes in format 1, 4 in 2 and 3), then the header.
    let mut prefix = Vec::with_capacity(12);
    (&mut file)
        .take(12)
        .read_to_end(&mut prefix)
        .map_err(io_error)?;
    let (len, start) = match prefix.get(6) {
        Some(1) if prefix.len() >= 10 => (u16::from_le_bytes([prefix[8], prefix[9]]) as u64, 10),
        Some(_) if prefix.len() == 12 => (
            u64::from(u32::from_le_bytes([
                prefix[8], prefix[9], prefix[10], prefix[11],
            ])),
            12,
        ),
        _ => return Err(corrupt(path, "not a .npy file (too short)")),
    };
    let mut bytes = prefix;
    let wanted = start as u64 + len;
    let have = bytes.len() as u64;
    (&mut file)
        .take(wanted.saturating_sub(have))
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    bytes.truncate(usize::try_from(wanted).unwrap_or(usize::MAX));
    Ok(parse_header(&bytes, path)?.0)
}

/// Reads a 1-D `float64` `.npy` file.
pub fn read_vector(path: &Path) -> Result<Vec<f64>> {
    let array = read_npy(path)?;
    expect_rank(path, &array, 1, "1 axis")?;
    Ok(array.data)
}

/// Reads a 2-D `float64` `.npy` file as a matrix of the same shape.
pub fn read_matrix(path: &Path) -> Result<Mat<f64>> {
    let array = read_npy(path)?;
    expect_rank(path, &array, 2, "2 axes")?;
    let (rows, cols) = (array.shape[0], array.shape[1]);
    Ok(Mat::from_fn(rows, cols, |i, j| array.data[i * cols + j]))
}

/// Reads a 3-D `float64` `.npy` file of shape `K×R×C` as `K` matrices `R×C`.
pub fn read_matrices(path: &Path) -> Result<Vec<Mat<f64>>> {
    let array = read_npy(path)?;
    expect_rank(path, &array, 3, "3 axes")?;
    let (k, rows, cols) = (array.shape[0], array.shape[1], array.shape[2]);
    Ok((0..k)
        .map(|m| {
            let offset = m * rows * cols;
            Mat::from_fn(rows, cols, |i, j| array.data[offset + i * cols + j])
        })
        .collect())
}

/// One trial from `.npy` files: `inputs` `T×N_x` (`None`: no inputs,
/// `N_x = 0`), `targets` `T×N_y`, an optional `mask` of length `T` (entries 0
/// or 1), and the initial-state rule.
///
/// Every file must agree on `T`; the trial is then validated by
/// [`Trial::from_columns`].
pub fn read_trial(
    inputs: Option<&Path>,
    targets: &Path,
    mask: Option<&Path>,
    initial_state: InitialState,
) -> Result<Trial> {
    let mut trials = read_trials_with_rank(inputs, targets, mask, initial_state, Some(2))?;
    Ok(trials.remove(0))
}

/// Trials from `.npy` files, either one trial (2-D `targets` `T×N_y`, as
/// [`read_trial`]) or `K` trials of equal length (3-D `targets` `K×T×N_y`).
///
/// `inputs` has the same rank as `targets` (`T×N_x` or `K×T×N_x`; `None`: no
/// inputs). `mask` is either of length `T` (one mask for every trial) or, for
/// 3-D targets, `K×T` (a mask per trial). Every trial gets `initial_state`.
pub fn read_trials(
    inputs: Option<&Path>,
    targets: &Path,
    mask: Option<&Path>,
    initial_state: InitialState,
) -> Result<Vec<Trial>> {
    read_trials_with_rank(inputs, targets, mask, initial_state, None)
}

fn read_trials_with_rank(
    inputs: Option<&Path>,
    targets_path: &Path,
    mask: Option<&Path>,
    initial_state: InitialState,
    rank: Option<usize>,
) -> Result<Vec<Trial>> {
    let targets = read_npy(targets_path)?;
    let (k, len, ny) = match (targets.shape.as_slice(), rank) {
        (&[len, ny], None | Some(2)) => (1, len, ny),
        (&[k, len, ny], None | Some(3)) => (k, len, ny),
        _ => {
            return Err(shape_error(
                targets_path,
                &targets,
                match rank {
                    Some(2) => "2 axes (T, N_y)".to_string(),
                    _ => "2 axes (T, N_y) or 3 axes (K, T, N_y)".to_string(),
                },
            ));
        }
    };
    let three_d = targets.ndim() == 3;
    if k == 0 || len == 0 {
        return Err(shape_error(
            targets_path,
            &targets,
            "at least one trial of at least one step".to_string(),
        ));
    }
    let (nx, input_data) = match inputs {
        None => (0, Vec::new()),
        Some(path) => {
            let array = read_npy(path)?;
            let nx = match (array.shape.as_slice(), three_d) {
                (&[l, nx], false) if l == len => nx,
                (&[kk, l, nx], true) if kk == k && l == len => nx,
                _ => {
                    let expected = if three_d {
                        format!("3 axes (K, T, N_x) with K = {k}, T = {len} (as the targets)")
                    } else {
                        format!("2 axes (T, N_x) with T = {len} (as the targets)")
                    };
                    return Err(shape_error(path, &array, expected));
                }
            };
            (nx, array.data)
        }
    };
    // Per-trial masks, or one mask shared by every trial.
    let (mask_data, mask_per_trial) = match mask {
        None => (None, false),
        Some(path) => {
            let array = read_npy(path)?;
            let per_trial = match *array.shape.as_slice() {
                [l] if l == len => false,
                [kk, l] if three_d && kk == k && l == len => true,
                _ => {
                    let expected = if three_d {
                        format!("1 axis (T) or 2 axes (K, T) with K = {k}, T = {len}")
                    } else {
                        format!("1 axis (T) with T = {len} (as the targets)")
                    };
                    return Err(shape_error(path, &array, expected));
                }
            };
            (Some(array.data), per_trial)
        }
    };
    (0..k)
        .map(|m| {
            let x_offset = m * len * nx;
            let y_offset = m * len * ny;
            // Step-major storage: column s is the step.
            let x = Mat::from_fn(nx, len, |i, s| input_data[x_offset + s * nx + i]);
            let y = Mat::from_fn(ny, len, |i, s| targets.data[y_offset + s * ny + i]);
            let mask = mask_data.as_ref().map(|data| {
                let start = if mask_per_trial { m * len } else { 0 };
                data[start..start + len].to_vec()
            });
            Trial::from_columns(x, y, mask, initial_state.clone())
        })
        .collect()
}

/// A network from the files [`export_network`](crate::export::export_network)
/// writes into `dir`: `config.json`, `W.npy` (`N×N`), `W_in.npy` (`N×N_x`),
/// `W_out.npy` (`N_y×N`) and `B.npy` (`N×N_y`).
///
/// The config is validated, each matrix checked against the config's sizes
/// ([`CoreError::NpyShape`] names the file), then [`Network::from_weights`]
/// builds the network. A round trip through `export_network` gives the
/// identical network, bit for bit.
pub fn read_network(dir: &Path) -> Result<Network> {
    let config_path = dir.join("config.json");
    let bytes = std::fs::read(&config_path).map_err(|source| CoreError::Io {
        path: config_path.clone(),
        source,
    })?;
    let config: NetworkConfig =
        serde_json::from_slice(&bytes).map_err(|e| CoreError::CorruptFile {
            path: config_path.clone(),
            reason: format!("not a network config: {e}"),
        })?;
    config.validate()?;
    let (n, nx, ny) = (config.n_units, config.n_inputs, config.n_outputs);
    let matrix = |name: &str, rows: usize, cols: usize| -> Result<Mat<f64>> {
        let path = dir.join(name);
        let array = read_npy(&path)?;
        if array.shape != [rows, cols] {
            return Err(shape_error(
                &path,
                &array,
                format!("({rows}, {cols}) from config.json (N = {n}, N_x = {nx}, N_y = {ny})"),
            ));
        }
        Ok(Mat::from_fn(rows, cols, |i, j| array.data[i * cols + j]))
    };
    let weights = Weights {
        recurrent: matrix("W.npy", n, n)?,
        input: matrix("W_in.npy", n, nx)?,
        readout: matrix("W_out.npy", ny, n)?,
        feedback: matrix("B.npy", n, ny)?,
    };
    Network::from_weights(&config, weights)
}

fn expect_rank(path: &Path, array: &NpyArray, rank: usize, words: &str) -> Result<()> {
    if array.ndim() == rank {
        Ok(())
    } else {
        Err(shape_error(path, array, words.to_string()))
    }
}

fn shape_error(path: &Path, array: &NpyArray, expected: String) -> CoreError {
    CoreError::NpyShape {
        path: path.to_path_buf(),
        expected,
        found: array.shape.clone(),
    }
}

fn corrupt(path: &Path, reason: impl Into<String>) -> CoreError {
    CoreError::CorruptFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Parses a `.npy` header (and checks the dtype); returns the shape, the
/// header and the bytes after it.
fn parse_header<'a>(
    bytes: &'a [u8],
    path: &Path,
) -> Result<(Vec<usize>, npyz::NpyHeader, &'a [u8])> {
    // npyz multiplies the axis lengths unchecked; refuse overflowing shapes first.
    check_shape_fits(bytes, path)?;
    let file =
        NpyFile::new(bytes).map_err(|e| corrupt(path, format!("not a valid .npy file: {e}")))?;
    let header = file.header().clone();
    match header.dtype() {
        DType::Plain(ty) if ty.type_char() == TypeChar::Float && ty.size_field() == 8 => {}
        other => {
            let found = match other {
                DType::Plain(ty) => ty.to_string(),
                record_or_array => record_or_array.descr(),
            };
            return Err(CoreError::NpyDtype {
                path: path.to_path_buf(),
                found,
            });
        }
    }
    let shape = header
        .shape()
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<std::result::Result<Vec<usize>, _>>()
        .map_err(|_| corrupt(path, "an axis length does not fit in memory"))?;
    Ok((shape, header, file.into_inner()))
}

/// Parses the bytes of a `.npy` file; `path` labels errors.
fn parse_npy(bytes: &[u8], path: &Path) -> Result<NpyArray> {
    let (shape, header, data_bytes) = parse_header(bytes, path)?;
    let big_endian =
        matches!(header.dtype(), DType::Plain(ty) if ty.endianness() == npyz::Endianness::Big);
    let count = header.len();
    if Some(data_bytes.len() as u64) != count.checked_mul(8) {
        return Err(corrupt(
            path,
            format!(
                "the header declares {count} float64 entries ({shape:?}), the file holds {} data bytes",
                data_bytes.len()
            ),
        ));
    }
    let raw: Vec<f64> = data_bytes
        .chunks_exact(8)
        .map(|chunk| {
            let b: [u8; 8] = chunk.try_into().expect("chunks of 8 bytes");
            if big_endian {
                f64::from_be_bytes(b)
            } else {
                f64::from_le_bytes(b)
            }
        })
        .collect();
    let data = match header.order() {
        Order::C => raw,
        Order::Fortran => fortran_to_c(&raw, &shape),
    };
    if let Some(flat) = data.iter().position(|v| !v.is_finite()) {
        return Err(CoreError::NpyNonFinite {
            path: path.to_path_buf(),
            index: unravel(flat, &shape),
            value: data[flat],
        });
    }
    Ok(NpyArray { shape, data })
}

/// C-order copy of Fortran-order (first axis fastest) data.
fn fortran_to_c(raw: &[f64], shape: &[usize]) -> Vec<f64> {
    (0..raw.len())
        .map(|c| {
            // Multi-index of C position c, then its Fortran offset.
            let index = unravel(c, shape);
            let mut offset = 0;
            for (axis, &i) in index.iter().enumerate().rev() {
                offset = offset * shape[axis] + i;
            }
            raw[offset]
        })
        .collect()
}

/// The multi-index of C-order position `flat` in `shape`.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (axis, &len) in shape.iter().enumerate().rev() {
        if len > 0 {
            index[axis] = flat % len;
            flat /= len;
        }
    }
    index
}

/// Rejects a header longer than the file and a header whose axis lengths
/// overflow `u64` when multiplied (npyz would reserve the length, or panic
/// on the product). Headers this scan cannot read are left to npyz.
fn check_shape_fits(bytes: &[u8], path: &Path) -> Result<()> {
    // Magic (6), version (2), header length (2 bytes in v1, 4 in v2/v3), header.
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(corrupt(path, "not a .npy file (no \\x93NUMPY magic)"));
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Ok(()),
    };
    // npyz reserves the declared header length before reading it: a short
    // file must not make it reserve gigabytes.
    let Some(text) = bytes.get(start..start.saturating_add(len)) else {
        return Err(corrupt(
            path,
            format!(
                "truncated header: it declares {len} bytes, the file holds {}",
                bytes.len() - start
            ),
        ));
    };
    let text = String::from_utf8_lossy(text);
    let Some(after) = text.split("'shape'").nth(1) else {
        return Ok(());
    };
    let Some(open) = after.find('(') else {
        return Ok(());
    };
    let Some(close) = after[open..].find(')') else {
        return Ok(());
    };
    let mut product: u64 = 1;
    for part in after[open + 1..open + close].split(',') {
        let part = part.trim().trim_end_matches('L');
        if part.is_empty() {
            continue;
        }
        let Ok(d) = part.parse::<u64>() else {
            // Larger than u64 or not a number: npyz reports it.
            continue;
        };
        if d == 0 {
            continue;
        }
        product = product.checked_mul(d).ok_or_else(|| {
            corrupt(
                path,
                "the header's shape has more entries than fit in 64 bits",
            )
        })?;
    }
    Ok(())
}
