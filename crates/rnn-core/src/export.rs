//! Export to numpy: `.npy` files a numpy user loads with `np.load`.
//!
//! [`export_network`] writes `W.npy` (`N×N`), `W_in.npy` (`N×N_x`),
//! `W_out.npy` (`N_y×N`), `B.npy` (`N×N_y`) and `config.json`;
//! [`export_trajectory`] writes a trial and what the network did with it,
//! time along the first axis: `x.npy` (`T×N_x`), `y_target.npy` (`T×N_y`),
//! `mask.npy` (`T`), `u.npy` (`T×N`), `h.npy` (`(T+1)×N`, `h(0)` first),
//! `y.npy` (`T×N_y`), `error.npy` (`T×N_y`). Arrays are little-endian
//! `float64` in C order. Each call also writes a `README.md` in the folder
//! describing the files. Every file is written atomically.

use std::io::Cursor;
use std::path::Path;

use faer::MatRef;
use npyz::WriterBuilder;

use crate::dynamics::Trajectory;
use crate::error::{CoreError, Result};
use crate::io::write_atomic;
use crate::network::Network;
use crate::trial::Trial;

const NETWORK_README: &str = "\
## Network

| file | shape | content |
|---|---|---|
| `W.npy` | N x N | recurrent weights, row = postsynaptic unit |
| `W_in.npy` | N x N_x | input weights |
| `W_out.npy` | N_y x N | readout weights |
| `B.npy` | N x N_y | fixed random feedback |
| `config.json` | | sizes, tau, gain, initial scales (rnn-core `NetworkConfig`) |
";

const TRAJECTORY_README: &str = "\
## Trajectory (time along axis 0; row s is time t = s + 1)

| file | shape | content |
|---|---|---|
| `x.npy` | T x N_x | inputs x(t) |
| `y_target.npy` | T x N_y | targets y*(t) |
| `mask.npy` | T | mask m(t) (ones when the trial has none) |
| `u.npy` | T x N | input currents u(t) |
| `h.npy` | (T+1) x N | activities h(0..T), h(0) first |
| `y.npy` | T x N_y | outputs y(t) |
| `error.npy` | T x N_y | masked errors m(t) (y*(t) - y(t)) |
";

/// Writes `m` (any shape) to `path` as a C-order `float64` `.npy`.
pub fn write_npy(path: &Path, m: MatRef<'_, f64>) -> Result<()> {
    let (rows, cols) = (m.nrows(), m.ncols());
    let values = (0..rows).flat_map(|i| (0..cols).map(move |j| m[(i, j)]));
    write_npy_values(path, &[rows as u64, cols as u64], values)
}

/// Writes a vector to `path` as a 1-D `float64` `.npy`.
pub fn write_npy_vector(path: &Path, v: &[f64]) -> Result<()> {
    write_npy_values(path, &[v.len() as u64], v.iter().copied())
}

fn write_npy_values(path: &Path, shape: &[u64], values: impl Iterator<Item = f64>) -> Result<()> {
    let io_error = |source| CoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut buffer = Cursor::new(Vec::new());
    let mut writer = npyz::WriteOptions::<f64>::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut buffer)
        .begin_nd()
        .map_err(io_error)?;
    writer.extend(values).map_err(io_error)?;
    writer.finish().map_err(io_error)?;
    write_atomic(path, buffer.get_ref())
}

/// Exports the weights and config of `net` into `dir` (created if missing).
pub fn export_network(dir: &Path, net: &Network) -> Result<()> {
    create_dir(dir)?;
    write_npy(&dir.join("W.npy"), net.recurrent())?;
    write_npy(&dir.join("W_in.npy"), net.input())?;
    write_npy(&dir.join("W_out.npy"), net.readout())?;
    write_npy(&dir.join("B.npy"), net.feedback())?;
    let json =
        serde_json::to_vec_pretty(net.config()).map_err(|e| CoreError::Encode(e.to_string()))?;
    write_atomic(&dir.join("config.json"), &json)?;
    write_readme(dir)
}

/// Exports `trial` and the `trajectory` a network produced on it into `dir`.
pub fn export_trajectory(dir: &Path, trial: &Trial, trajectory: &Trajectory) -> Result<()> {
    if trajectory.len() != trial.len() {
        return Err(CoreError::ShapeMismatch {
            what: "trajectory vs trial (steps)",
            expected_rows: trial.len(),
            expected_cols: 1,
            rows: trajectory.len(),
            cols: 1,
        });
    }
    create_dir(dir)?;
    let mask: Vec<f64> = (0..trial.len()).map(|s| trial.mask_at(s)).collect();
    write_npy(&dir.join("x.npy"), trial.inputs())?;
    write_npy(&dir.join("y_target.npy"), trial.targets())?;
    write_npy_vector(&dir.join("mask.npy"), &mask)?;
    write_npy(&dir.join("u.npy"), trajectory.u.as_ref().transpose())?;
    write_npy(&dir.join("h.npy"), trajectory.h.as_ref().transpose())?;
    write_npy(&dir.join("y.npy"), trajectory.y.as_ref().transpose())?;
    write_npy(
        &dir.join("error.npy"),
        trajectory.error.as_ref().transpose(),
    )?;
    write_readme(dir)
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| CoreError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// The README lists the sections for the files present in `dir`.
fn write_readme(dir: &Path) -> Result<()> {
    let mut text = String::from(
        "# Exported by rnn-core\n\nLoad with `numpy.load(\"W.npy\")`: little-endian float64, C order.\n\n",
    );
    if dir.join("W.npy").exists() {
        text.push_str(NETWORK_README);
        text.push('\n');
    }
    if dir.join("h.npy").exists() {
        text.push_str(TRAJECTORY_README);
    }
    write_atomic(&dir.join("README.md"), text.as_bytes())
}
