"""Recurrent layers as one `Function` per layer and direction: the time loop forward and
backpropagation through time (BPTT) side by side (seed 000's course project; PyTorch's gate
layouts, so `torch.nn.RNN/LSTM/GRU` weights load unchanged).

Speed: the input projection X W_ih^T (+ biases) of all T steps is one matrix product before
the loop; inside the loop each step is ONE product h W_hh^T for all gates (N, G*H) and the whole
batch; the backward loop does one product dG W_hh per step and the weight gradients are again
one product each after the loop (dW_ih = dG^T X, dW_hh = dG^T H_prev over all steps). The big
products are split over striate's threads (`kernels.gemm`); the per-step products are small
(32 x 512 x 2048 at the project's sizes, ~0.3 ms), so they run on one BLAS thread without a
hand-off per step: measured on the loaded 2-core machine, splitting each step over two threads
cost 1.5 s of queue hand-offs per 1000 steps and stalled whenever the partner was descheduled.

Sequences of unequal length (`lengths`, from a PackedSequence): sample n is active for
t < lengths[n]; after that its state is carried unchanged and its outputs are 0, so h_n is the
state at its own last frame. Every array is in "processing order": a reverse direction reorders
each sample's own valid frames back to front (an involution; padding stays in place), runs the
same loop, and reorders its outputs back.

Output of every layer Function: (T + k, N, H) = the outputs of the T steps, then h_n (and c_n).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.kernels import cells
from striate.kernels.gemm import gemm


def _flat(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, a.shape[-1])


def _steps(T: int, backwards: bool = False) -> Iterator[int]:
    """The time indices of a loop, forwards or backwards (the thread policy is the caller's:
    `st.config.set_num_threads`, the CLI or `fit` put BLAS on one thread)."""
    return iter(range(T - 1, -1, -1) if backwards else range(T))


def _input_projection(x: np.ndarray, w_ih: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """X W_ih^T (+ bias) for all T steps at once: (T, N, G*H)."""
    T, N, _ = x.shape
    xp = gemm(_flat(x), w_ih.T).reshape(T, N, -1)
    if bias is not None:
        xp += bias
    return xp


class _RecurrentLayer(Function):
    """Shared bookkeeping: inputs are (x, h0, [c0], w_ih, w_hh, [b_ih, b_hh]), x (T, N, I)."""

    n_states = 1  # h (RNN, GRU) or h and c (LSTM)

    def _prepare(self, arrays, reverse, lengths):
        s = self.n_states
        x, states, (w_ih, w_hh), biases = arrays[0], arrays[1:1 + s], arrays[1 + s:3 + s], arrays[3 + s:]
        T, N = x.shape[:2]
        self.valid = None if lengths is None else np.arange(T)[:, None] < lengths[None, :]  # (T, N)
        self.order = None
        if reverse:
            L = np.full(N, T) if lengths is None else lengths
            t = np.arange(T)[:, None]
            self.order = (np.where(t < L, L - 1 - t, t), np.arange(N)[None, :])
        return self._reorder(x), states, w_ih, w_hh, (biases if biases else None)

    def _reorder(self, a: np.ndarray) -> np.ndarray:
        """(T, N, ...) from time order to processing order and back (the same permutation)."""
        return a if self.order is None else a[self.order]

    def _carry(self, t: int, new: np.ndarray, old: np.ndarray) -> None:
        """Samples that ended before step t keep their state."""
        if self.valid is not None and not self.valid[t].all():
            idle = ~self.valid[t]
            new[idle] = old[idle]

    def _outputs(self, h_all: np.ndarray, finals: tuple[np.ndarray, ...]) -> np.ndarray:
        T = h_all.shape[0] - 1
        out = np.empty((T + len(finals),) + h_all.shape[1:], h_all.dtype)
        out[:T] = self._reorder(h_all[1:])
        if self.valid is not None:
            out[:T][~self.valid] = 0
        for k, f in enumerate(finals):
            out[T + k] = f
        return out

    def _output_grads(self, g: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """dL/d(step outputs) in processing order (0 on padding) and dL/d(final states)."""
        T = g.shape[0] - self.n_states
        gh = self._reorder(g[:T])
        if self.valid is not None:
            gh = gh * self.valid[..., None]
        return gh, [g[T + k].copy() for k in range(self.n_states)]

    def _weight_grads(self, dG, dHh, d_states):
        """dX, d_states, dW_ih, dW_hh, db_ih, db_hh from the gate gradients of all steps.

        dG: dL/d(pre-activations) through the input projection; dHh: through the recurrent one.
        """
        needs = self.needs_input_grad
        s = self.n_states
        x = self.x
        dx = dw_ih = dw_hh = None
        if needs[0]:
            dx = self._reorder(gemm(_flat(dG), self.w_ih).reshape(x.shape))
        if needs[1 + s]:
            dw_ih = gemm(_flat(dG).T, _flat(x))
        if needs[2 + s]:
            dw_hh = gemm(_flat(dHh).T, _flat(self.h_all[:-1]))
        grads = [dx, *[d if needs[1 + k] else None for k, d in enumerate(d_states)], dw_ih, dw_hh]
        if len(needs) > 3 + s:
            grads.append(_flat(dG).sum(axis=0) if needs[3 + s] else None)
            grads.append(_flat(dHh).sum(axis=0) if needs[4 + s] else None)
        return tuple(grads)

    def _idle_rows(self, t: int) -> np.ndarray | None:
        if self.valid is None or self.valid[t].all():
            return None
        return ~self.valid[t]

    def _save(self, **arrays) -> None:
        if self.needs_input_grad is not None:
            self.__dict__.update(arrays)


class RNNLayer(_RecurrentLayer):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu.

    BPTT: dA_t = (dL/dh_t + dA_{t+1} W_hh) * act'(h_t), tanh' = 1 - h^2, relu' = [h > 0];
    dW_ih = sum_t dA_t^T x_t, dW_hh = sum_t dA_t^T h_{t-1}, db_ih = db_hh = sum_t dA_t.
    """

    def forward(self, *arrays, reverse, nonlinearity, lengths=None):
        x, (h0,), w_ih, w_hh, biases = self._prepare(arrays, reverse, lengths)
        T = x.shape[0]
        xp = _input_projection(x, w_ih, None if biases is None else biases[0] + biases[1])
        w_hh_t = w_hh.T
        h_all = np.empty((T + 1,) + h0.shape, x.dtype)
        h_all[0] = h0
        for t in _steps(T):
            a = xp[t]
            a += h_all[t] @ w_hh_t
            if nonlinearity == "tanh":
                np.tanh(a, out=h_all[t + 1])
            else:
                np.maximum(a, 0, out=h_all[t + 1])
            self._carry(t, h_all[t + 1], h_all[t])
        self.nonlinearity = nonlinearity
        self._save(x=x, h_all=h_all, w_ih=w_ih, w_hh=w_hh)
        return self._outputs(h_all, (h_all[T],))

    def backward(self, g):
        gh, (dh,) = self._output_grads(g)
        h_all, w_hh = self.h_all, self.w_hh
        dA = np.empty_like(gh)
        for t in _steps(gh.shape[0], backwards=True):
            dh += gh[t]
            h = h_all[t + 1]
            dA[t] = dh * (1 - h * h) if self.nonlinearity == "tanh" else dh * (h > 0)
            idle = self._idle_rows(t)
            if idle is not None:
                dA[t][idle] = 0
                dh = np.where(idle[:, None], dh, dA[t] @ w_hh)
            else:
                dh = dA[t] @ w_hh
        return self._weight_grads(dA, dA, [dh])


class LSTMLayer(_RecurrentLayer):
    """LSTM (Hochreiter & Schmidhuber 1997), PyTorch's gate order i, f, g, o:

        [a_i a_f a_g a_o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh      (one (N, 4H) product)
        i, f, o = sigmoid(a_i, a_f, a_o),  g = tanh(a_g)
        c_t = f * c_{t-1} + i * g,          h_t = o * tanh(c_t)

    BPTT, with dh = dL/dh_t + dL/dh_t through step t+1, dc likewise:
        do = dh tanh(c_t);  dc += dh o (1 - tanh^2 c_t);  di = dc g;  dg = dc i;  df = dc c_{t-1}
        da = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)];  dc_{t-1} = dc f;  dh_{t-1} = da W_hh
    """

    n_states = 2

    def forward(self, *arrays, reverse, lengths=None):
        x, (h0, c0), w_ih, w_hh, biases = self._prepare(arrays, reverse, lengths)
        T = x.shape[0]
        acts = _input_projection(x, w_ih, None if biases is None else biases[0] + biases[1])
        w_hh_t = w_hh.T
        h_all = np.empty((T + 1,) + h0.shape, x.dtype)
        c_all = np.empty_like(h_all)
        h_all[0], c_all[0] = h0, c0
        for t in _steps(T):
            a = acts[t]  # the projections, overwritten by the gate activations
            a += h_all[t] @ w_hh_t
            cells.lstm_forward(a, c_all[t], c_all[t + 1], h_all[t + 1])
            self._carry(t, c_all[t + 1], c_all[t])
            self._carry(t, h_all[t + 1], h_all[t])
        self._save(x=x, h_all=h_all, c_all=c_all, acts=acts, w_ih=w_ih, w_hh=w_hh)
        return self._outputs(h_all, (h_all[T], c_all[T]))

    def backward(self, g):
        gh, (dh, dc) = self._output_grads(g)
        acts, c_all, w_hh = self.acts, self.c_all, self.w_hh
        dG = np.empty_like(acts)
        for t in _steps(gh.shape[0], backwards=True):
            dh += gh[t]
            d = dG[t]
            dc_prev = cells.lstm_backward(acts[t], c_all[t], c_all[t + 1], dh, dc, d)
            idle = self._idle_rows(t)
            if idle is not None:  # ended samples: no gate gradients, states' gradients carried
                d[idle] = 0
                dc = np.where(idle[:, None], dc, dc_prev)
                dh = np.where(idle[:, None], dh, d @ w_hh)
            else:
                dc = dc_prev
                dh = d @ w_hh
        return self._weight_grads(dG, dG, [dh, dc])


class GRULayer(_RecurrentLayer):
    """GRU (Cho et al. 2014), PyTorch's gate order r, z, n:

        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr),  z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)),    h_t = (1 - z) * n + z * h_{t-1}

    (one (N, 3H) product h W_hh^T + b_hh per step).
    BPTT: dn = dh (1 - z);  dz = dh (h_{t-1} - n);  da_n = dn (1 - n^2);  dr = da_n (h W_hn^T + b_hn)
        through the input: [dr r(1-r), dz z(1-z), da_n];  through W_hh: the same with da_n * r
        dh_{t-1} = dh z + (recurrent gate grads) W_hh
    """

    def forward(self, *arrays, reverse, lengths=None):
        x, (h0,), w_ih, w_hh, biases = self._prepare(arrays, reverse, lengths)
        T, H = x.shape[0], h0.shape[-1]
        xp = _input_projection(x, w_ih, None if biases is None else biases[0])
        b_hh = None if biases is None else biases[1]
        w_hh_t = w_hh.T
        h_all = np.empty((T + 1,) + h0.shape, x.dtype)
        h_all[0] = h0
        saved = np.empty(xp.shape[:2] + (4 * H,), x.dtype)  # r, z, n, h W_hn^T + b_hn per step
        for t in _steps(T):
            hh = h_all[t] @ w_hh_t
            if b_hh is not None:
                hh += b_hh
            cells.gru_forward(xp[t], hh, h_all[t], saved[t], h_all[t + 1])
            self._carry(t, h_all[t + 1], h_all[t])
        self._save(x=x, h_all=h_all, saved=saved, w_ih=w_ih, w_hh=w_hh)
        return self._outputs(h_all, (h_all[T],))

    def backward(self, g):
        gh, (dh,) = self._output_grads(g)
        H = dh.shape[-1]
        h_all, saved, w_hh = self.h_all, self.saved, self.w_hh
        dX = np.empty(gh.shape[:2] + (3 * H,), gh.dtype)
        dHh = np.empty_like(dX)
        for t in _steps(gh.shape[0], backwards=True):
            dh += gh[t]
            dx, dr = dX[t], dHh[t]
            dh_z = cells.gru_backward(saved[t], h_all[t], dh, dx, dr)
            idle = self._idle_rows(t)
            if idle is not None:
                dx[idle] = 0
                dr[idle] = 0
                dh = np.where(idle[:, None], dh, dh_z + dr @ w_hh)
            else:
                dh = dh_z + dr @ w_hh
        return self._weight_grads(dX, dHh, [dh])


_LAYERS = {"RNN_TANH": RNNLayer, "RNN_RELU": RNNLayer, "LSTM": LSTMLayer, "GRU": GRULayer}


def recurrent_layer(mode: str, x: Tensor, states: tuple[Tensor, ...], weights: tuple[Tensor, ...],
                    reverse: bool = False, lengths: np.ndarray | None = None,
                    ) -> tuple[Tensor, tuple[Tensor, ...]]:
    """One layer, one direction over a time-major x (T, N, I): (output (T, N, H), final states).

    mode: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"; states (h0,) or (h0, c0) each (N, H);
    weights (w_ih, w_hh) or (w_ih, w_hh, b_ih, b_hh) in PyTorch's gate layout; lengths (N,)
    for a padded batch of unequal sequences (outputs 0 and states carried past each length).
    """
    options = {"reverse": reverse, "lengths": None if lengths is None else np.asarray(lengths, np.int64)}
    if mode.startswith("RNN"):
        options["nonlinearity"] = "tanh" if mode == "RNN_TANH" else "relu"
    out = _LAYERS[mode].apply(x, *states, *weights, **options)
    T = x.shape[0]
    return out[:T], tuple(out[T + k] for k in range(len(states)))
