"""Plain numpy implementations of the benchmarked workloads, written from the
project's spec (docs/spec/MODEL.md §1.3, §2, §4, §5), as a numpy user would
write them: one time step per Python iteration, float64.

Every function takes the weights, the trial (x: T×N_x, y: T×N_y), h(0), alpha,
the learning rate and the projection F, and returns (dW, dW_in, dW_out): the
update a trial-end schedule adds to the weights.
"""

import numpy as np


def forward(W, W_in, W_out, x, h0, alpha):
    """u(t) = W h(t-1) + W_in x(t); h(t) = (1-alpha) h(t-1) + alpha tanh(u(t)); y(t) = W_out h(t)."""
    T, n = x.shape[0], W.shape[0]
    H = np.empty((T + 1, n))
    U = np.empty((T, n))
    H[0] = h0
    h = h0
    for t in range(T):
        u = W @ h + W_in @ x[t]
        h = (1 - alpha) * h + alpha * np.tanh(u)
        U[t] = u
        H[t + 1] = h
    Y = H[1:] @ W_out.T
    return U, H, Y


def rflo_traces(W, W_in, W_out, F, x, y, h0, alpha, eta):
    """RFLO's definition (§5.1): eligibility traces p, q updated every step."""
    T, n = x.shape[0], W.shape[0]
    p = np.zeros_like(W)
    q = np.zeros_like(W_in)
    dW = np.zeros_like(W)
    dW_in = np.zeros_like(W_in)
    dW_out = np.zeros_like(W_out)
    h = h0
    for t in range(T):
        u = W @ h + W_in @ x[t]
        slope = 1 - np.tanh(u) ** 2
        p = (1 - alpha) * p + alpha * np.outer(slope, h)
        q = (1 - alpha) * q + alpha * np.outer(slope, x[t])
        h = (1 - alpha) * h + alpha * np.tanh(u)
        e = y[t] - W_out @ h
        fe = F @ e
        dW += fe[:, None] * p
        dW_in += fe[:, None] * q
        dW_out += np.outer(e, h)
    return eta * dW / T, eta * dW_in / T, eta * dW_out / T


def rflo_fast(W, W_in, W_out, F, x, y, h0, alpha, eta):
    """RFLO's trial-batched form (§5.3): forward pass, backward-filtered error, two products."""
    T = x.shape[0]
    U, H, Y = forward(W, W_in, W_out, x, h0, alpha)
    E = y - Y
    FE = E @ F.T
    R = np.empty_like(FE)
    r = np.zeros(F.shape[0])
    for t in range(T - 1, -1, -1):
        r = alpha * FE[t] + (1 - alpha) * r
        R[t] = r
    G = (1 - np.tanh(U) ** 2) * R
    return eta * G.T @ H[:-1] / T, eta * G.T @ x / T, eta * E.T @ H[1:] / T


def bptt(W, W_in, W_out, F, x, y, h0, alpha, eta):
    """BPTT (§4): forward pass, adjoint z backward, two products."""
    T = x.shape[0]
    U, H, Y = forward(W, W_in, W_out, x, h0, alpha)
    E = y - Y
    FE = E @ F.T
    S = 1 - np.tanh(U) ** 2
    G = np.empty_like(FE)
    z = FE[T - 1]
    G[T - 1] = S[T - 1] * z
    for t in range(T - 2, -1, -1):
        z = (1 - alpha) * z + alpha * W.T @ G[t + 1] + FE[t]
        G[t] = S[t] * z
    return eta * alpha * G.T @ H[:-1] / T, eta * alpha * G.T @ x / T, eta * E.T @ H[1:] / T
