"""Recurrent layers as one `Function` per layer and direction: the time loop forward and
backpropagation through time (BPTT) side by side (seed 000's course project; PyTorch's gate
layouts, so `torch.nn.RNN/LSTM/GRU` weights load unchanged).

Speed: the input projection X W_ih^T (+ biases) of all T steps is one matrix product before
the loop; inside the loop each step is ONE product h W_hh^T for all gates (N, G*H) and the whole
batch; the backward loop does one product dG W_hh per step and the weight gradients are again
one product each after the loop (dW_ih = dG^T X, dW_hh = dG^T H_prev over all steps).

Every array is in "processing order": a reverse (bidirectional) direction flips x once, runs
the same loop, and flips its outputs back.
"""

from __future__ import annotations

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.kernels.gemm import gemm
from striate.ops.activation import stable_sigmoid


def _flat(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, a.shape[-1])


def _in_order(x: np.ndarray, reverse: bool) -> np.ndarray:
    return np.ascontiguousarray(x[::-1]) if reverse else x


def _input_projection(x: np.ndarray, w_ih: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """X W_ih^T (+ bias) for all T steps at once: (T, N, G*H)."""
    T, N, _ = x.shape
    xp = gemm(_flat(x), np.ascontiguousarray(w_ih.T)).reshape(T, N, -1)
    if bias is not None:
        xp += bias
    return xp


class _RecurrentLayer(Function):
    """Shared bookkeeping: inputs are (x, h0, [c0], w_ih, w_hh, [b_ih, b_hh]), x (T, N, I)."""

    n_states = 1  # h (RNN, GRU) or h and c (LSTM)
    saves_output = True  # RNN/GRU outputs are views of the saved hidden states

    def _unpack(self, arrays):
        s = self.n_states
        x, states, (w_ih, w_hh), biases = arrays[0], arrays[1:1 + s], arrays[1 + s:3 + s], arrays[3 + s:]
        return x, states, w_ih, w_hh, (biases if biases else None)

    def _weight_grads(self, dG, dHh, x, w_ih):
        """dX, dW_ih, dW_hh, db_ih, db_hh from the gate gradients of all steps (processing order).

        dG: dL/d(pre-activations) through the input projection; dHh: through the recurrent one.
        """
        needs = self.needs_input_grad
        s = self.n_states
        dx = dw_ih = dw_hh = db_ih = db_hh = None
        if needs[0]:
            dx = _in_order(gemm(_flat(dG), w_ih).reshape(x.shape), self.reverse)
        if needs[1 + s]:
            dw_ih = gemm(np.ascontiguousarray(_flat(dG).T), _flat(x))
        if needs[2 + s]:
            dw_hh = gemm(np.ascontiguousarray(_flat(dHh).T), _flat(self.h_all[:-1]))
        grads = [dx, *self.d_states, dw_ih, dw_hh]
        if len(needs) > 3 + s:
            db_ih = _flat(dG).sum(axis=0) if needs[3 + s] else None
            db_hh = _flat(dHh).sum(axis=0) if needs[4 + s] else None
            grads += [db_ih, db_hh]
        return tuple(grads)

    def _output(self, h_all: np.ndarray) -> np.ndarray:
        out = h_all[1:]
        return np.ascontiguousarray(out[::-1]) if self.reverse else out


class RNNLayer(_RecurrentLayer):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu.

    Output (T, N, H): h_1..h_T in the input's time order.
    BPTT: dA_t = (dL/dh_t + dA_{t+1} W_hh) * act'(h_t), tanh' = 1 - h^2, relu' = [h > 0];
    dW_ih = sum_t dA_t^T x_t, dW_hh = sum_t dA_t^T h_{t-1}, db_ih = db_hh = sum_t dA_t.
    """

    def forward(self, *arrays, reverse, nonlinearity):
        x, (h0,), w_ih, w_hh, biases = self._unpack(arrays)
        x = _in_order(x, reverse)
        T = x.shape[0]
        xp = _input_projection(x, w_ih, None if biases is None else biases[0] + biases[1])
        w_hh_t = np.ascontiguousarray(w_hh.T)
        h_all = np.empty((T + 1,) + h0.shape, x.dtype)
        h_all[0] = h0
        for t in range(T):
            a = xp[t]
            a += gemm(h_all[t], w_hh_t)
            if nonlinearity == "tanh":
                np.tanh(a, out=h_all[t + 1])
            else:
                np.maximum(a, 0, out=h_all[t + 1])
        self.reverse, self.nonlinearity = reverse, nonlinearity
        if self.needs_input_grad is not None:
            self.x, self.h_all, self.w_ih, self.w_hh = x, h_all, w_ih, w_hh
        return self._output(h_all)

    def backward(self, g):
        g = _in_order(g, self.reverse)
        h_all, w_hh = self.h_all, self.w_hh
        T = g.shape[0]
        dA = np.empty_like(g)
        dh = np.zeros_like(h_all[0])
        for t in range(T - 1, -1, -1):
            dh += g[t]
            h = h_all[t + 1]
            dA[t] = dh * (1 - h * h) if self.nonlinearity == "tanh" else dh * (h > 0)
            dh = gemm(dA[t], w_hh)
        self.d_states = [dh if self.needs_input_grad[1] else None]
        return self._weight_grads(dA, dA, self.x, self.w_ih)


class LSTMLayer(_RecurrentLayer):
    """LSTM (Hochreiter & Schmidhuber 1997), PyTorch's gate order i, f, g, o:

        [a_i a_f a_g a_o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh      (one (N, 4H) product)
        i, f, o = sigmoid(a_i, a_f, a_o),  g = tanh(a_g)
        c_t = f * c_{t-1} + i * g,          h_t = o * tanh(c_t)

    Output (T + 1, N, H): h_1..h_T in the input's time order, then the last cell state c_n.
    BPTT, with dh = dL/dh_t + dL/dh_t through step t+1, dc likewise:
        do = dh tanh(c_t);  dc += dh o (1 - tanh^2 c_t);  di = dc g;  dg = dc i;  df = dc c_{t-1}
        da = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)];  dc_{t-1} = dc f;  dh_{t-1} = da W_hh
    """

    n_states = 2

    def forward(self, *arrays, reverse):
        x, (h0, c0), w_ih, w_hh, biases = self._unpack(arrays)
        x = _in_order(x, reverse)
        T, H = x.shape[0], h0.shape[-1]
        xp = _input_projection(x, w_ih, None if biases is None else biases[0] + biases[1])
        w_hh_t = np.ascontiguousarray(w_hh.T)
        h_all = np.empty((T + 1,) + h0.shape, x.dtype)
        c_all = np.empty_like(h_all)
        h_all[0], c_all[0] = h0, c0
        acts = xp  # overwritten in place by the gate activations, step by step
        for t in range(T):
            a = acts[t]
            a += gemm(h_all[t], w_hh_t)
            a[:, :2 * H] = stable_sigmoid(a[:, :2 * H])
            np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
            a[:, 3 * H:] = stable_sigmoid(a[:, 3 * H:])
            i, f, gg, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            c = c_all[t + 1]
            np.multiply(f, c_all[t], out=c)
            c += i * gg
            np.multiply(o, np.tanh(c), out=h_all[t + 1])
        self.reverse = reverse
        if self.needs_input_grad is not None:
            self.x, self.h_all, self.c_all, self.acts = x, h_all, c_all, acts
            self.w_ih, self.w_hh = w_ih, w_hh
        out = np.empty((T + 1,) + h0.shape, x.dtype)
        out[:T] = self._output(h_all)
        out[T] = c_all[T]
        return out

    def backward(self, g):
        H = self.h_all.shape[-1]
        T = g.shape[0] - 1
        gh = _in_order(g[:T], self.reverse)
        acts, c_all, w_hh = self.acts, self.c_all, self.w_hh
        dG = np.empty_like(acts)
        dh = np.zeros_like(self.h_all[0])
        dc = g[T].copy()  # dL/dc_n from the c_n output
        for t in range(T - 1, -1, -1):
            dh += gh[t]
            a = acts[t]
            i, f, gg, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            tc = np.tanh(c_all[t + 1])
            dc += dh * o * (1 - tc * tc)
            d = dG[t]
            d[:, :H] = dc * gg * i * (1 - i)
            d[:, H:2 * H] = dc * c_all[t] * f * (1 - f)
            d[:, 2 * H:3 * H] = dc * i * (1 - gg * gg)
            d[:, 3 * H:] = dh * tc * o * (1 - o)
            dc *= f
            dh = gemm(d, w_hh)
        needs = self.needs_input_grad
        self.d_states = [dh if needs[1] else None, dc if needs[2] else None]
        return self._weight_grads(dG, dG, self.x, self.w_ih)


class GRULayer(_RecurrentLayer):
    """GRU (Cho et al. 2014), PyTorch's gate order r, z, n:

        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr),  z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)),    h_t = (1 - z) * n + z * h_{t-1}

    (one (N, 3H) product h W_hh^T + b_hh per step). Output (T, N, H).
    BPTT: dn = dh (1 - z);  dz = dh (h_{t-1} - n);  da_n = dn (1 - n^2);  dr = da_n (h W_hn^T + b_hn)
        through the input: [dr r(1-r), dz z(1-z), da_n];  through W_hh: the same with da_n * r
        dh_{t-1} = dh z + (recurrent gate grads) W_hh
    """

    def forward(self, *arrays, reverse):
        x, (h0,), w_ih, w_hh, biases = self._unpack(arrays)
        x = _in_order(x, reverse)
        T, H = x.shape[0], h0.shape[-1]
        xp = _input_projection(x, w_ih, None if biases is None else biases[0])
        b_hh = None if biases is None else biases[1]
        w_hh_t = np.ascontiguousarray(w_hh.T)
        h_all = np.empty((T + 1,) + h0.shape, x.dtype)
        h_all[0] = h0
        saved = np.empty(xp.shape[:2] + (4 * H,), x.dtype)  # r, z, n, h W_hn^T + b_hn per step
        for t in range(T):
            hh = gemm(h_all[t], w_hh_t)
            if b_hh is not None:
                hh += b_hh
            a, s = xp[t], saved[t]
            s[:, :2 * H] = stable_sigmoid(a[:, :2 * H] + hh[:, :2 * H])
            r, z = s[:, :H], s[:, H:2 * H]
            s[:, 3 * H:] = hh[:, 2 * H:]
            n = s[:, 2 * H:3 * H]
            np.tanh(a[:, 2 * H:] + r * hh[:, 2 * H:], out=n)
            h_all[t + 1] = n + z * (h_all[t] - n)
        self.reverse = reverse
        if self.needs_input_grad is not None:
            self.x, self.h_all, self.saved, self.w_ih, self.w_hh = x, h_all, saved, w_ih, w_hh
        return self._output(h_all)

    def backward(self, g):
        H = self.h_all.shape[-1]
        g = _in_order(g, self.reverse)
        T = g.shape[0]
        h_all, saved, w_hh = self.h_all, self.saved, self.w_hh
        dX = np.empty(g.shape[:2] + (3 * H,), g.dtype)
        dHh = np.empty_like(dX)
        dh = np.zeros_like(h_all[0])
        for t in range(T - 1, -1, -1):
            dh += g[t]
            s = saved[t]
            r, z, n, hn = s[:, :H], s[:, H:2 * H], s[:, 2 * H:3 * H], s[:, 3 * H:]
            da_n = dh * (1 - z) * (1 - n * n)
            dx, dr = dX[t], dHh[t]
            dx[:, :H] = da_n * hn * r * (1 - r)
            dx[:, H:2 * H] = dh * (h_all[t] - n) * z * (1 - z)
            dx[:, 2 * H:] = da_n
            dr[:, :2 * H] = dx[:, :2 * H]
            dr[:, 2 * H:] = da_n * r
            dh = dh * z + gemm(dr, w_hh)
        self.d_states = [dh if self.needs_input_grad[1] else None]
        return self._weight_grads(dX, dHh, self.x, self.w_ih)


_LAYERS = {"RNN_TANH": RNNLayer, "RNN_RELU": RNNLayer, "LSTM": LSTMLayer, "GRU": GRULayer}


def recurrent_layer(mode: str, x: Tensor, states: tuple[Tensor, ...], weights: tuple[Tensor, ...],
                    reverse: bool = False) -> tuple[Tensor, tuple[Tensor, ...]]:
    """One layer, one direction over a time-major x (T, N, I): (output (T, N, H), final states).

    mode: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"; states (h0,) or (h0, c0) each (N, H);
    weights (w_ih, w_hh) or (w_ih, w_hh, b_ih, b_hh) in PyTorch's gate layout.
    """
    options = {"reverse": reverse}
    if mode.startswith("RNN"):
        options["nonlinearity"] = "tanh" if mode == "RNN_TANH" else "relu"
    out = _LAYERS[mode].apply(x, *states, *weights, **options)
    T = x.shape[0]
    if mode == "LSTM":
        h_seq = out[:T]
        last = h_seq[0] if reverse else h_seq[T - 1]
        return h_seq, (last, out[T])
    return out, (out[0] if reverse else out[T - 1],)
