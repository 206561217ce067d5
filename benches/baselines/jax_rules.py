"""BPTT the JAX way: the forward pass as `jax.lax.scan`, the update as
`-eta * jax.grad(loss)`, compiled with `jax.jit`, float64 (docs/spec/MODEL.md
§1.3, §4: with F = W_out^T BPTT's update is -eta dL/dTheta)."""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402


def loss(params, x, y, h0, alpha):
    W, W_in, W_out = params

    def step(h, xt):
        h = (1 - alpha) * h + alpha * jnp.tanh(W @ h + W_in @ xt)
        return h, h

    _, H = jax.lax.scan(step, h0, x)
    E = y - H @ W_out.T
    return 0.5 * jnp.sum(E**2) / x.shape[0]


_grad = jax.jit(jax.grad(loss))


def bptt(W, W_in, W_out, x, y, h0, alpha, eta):
    """(dW, dW_in, dW_out) = -eta dL/d(W, W_in, W_out), as numpy arrays."""
    g = _grad((W, W_in, W_out), x, y, h0, alpha)
    return tuple(-eta * jax.device_get(gi) for gi in g)
