"""nn.RNN/LSTM/GRU and their cells against torch.nn: the torch layer's state_dict is loaded into
the striate layer (same keys, same order), then outputs, final states and the gradients of the
input, the initial states and every parameter must agree (float32 1e-5, float64 1e-10); the
layer Functions' BPTT is checked by finite differences in float64."""

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

import striate as st
import striate.nn as nn
from harness import assert_close
from striate.ops.recurrent import recurrent_layer

RTOL = {np.float32: 1e-5, np.float64: 1e-10}


@dataclass
class RecCase:
    name: str
    cls: str
    kwargs: dict
    shape: tuple  # input shape
    init_states: bool = False
    train: bool = True
    extra: dict = field(default_factory=dict)

    def __str__(self):
        return self.name


def _case(name, cls, shape, init_states=False, train=True, **kwargs):
    return RecCase(name, cls, kwargs, shape, init_states, train)


CASES = [
    _case("rnn_tanh", "RNN", (7, 2, 3), input_size=3, hidden_size=5),
    _case("rnn_relu_2layers_h0", "RNN", (6, 3, 3), True, input_size=3, hidden_size=4, num_layers=2,
          nonlinearity="relu"),
    _case("rnn_bidir_nobias_batch_first", "RNN", (2, 5, 4), input_size=4, hidden_size=3, bias=False,
          batch_first=True, bidirectional=True),
    _case("lstm", "LSTM", (8, 2, 3), input_size=3, hidden_size=5),
    _case("lstm_h0_c0", "LSTM", (5, 3, 4), True, input_size=4, hidden_size=3),
    _case("lstm_bidir_3layers_h0", "LSTM", (6, 2, 3), True, input_size=3, hidden_size=4, num_layers=3,
          bidirectional=True),
    _case("lstm_batch_first_nobias", "LSTM", (3, 7, 2), input_size=2, hidden_size=6, bias=False,
          batch_first=True),
    _case("lstm_unbatched", "LSTM", (5, 3), True, input_size=3, hidden_size=4, num_layers=2),
    _case("lstm_long_seq", "LSTM", (100, 4, 8), input_size=8, hidden_size=16),
    _case("lstm_dropout_eval", "LSTM", (5, 2, 3), train=False, input_size=3, hidden_size=4, num_layers=2,
          dropout=0.5),
    _case("lstm_dropout_one", "LSTM", (5, 2, 3), input_size=3, hidden_size=4, num_layers=2, dropout=1.0),
    _case("gru", "GRU", (8, 2, 3), input_size=3, hidden_size=5),
    _case("gru_bidir_2layers_h0_batch_first", "GRU", (2, 6, 3), True, input_size=3, hidden_size=4,
          num_layers=2,
          bidirectional=True, batch_first=True),
    _case("gru_nobias_unbatched", "GRU", (6, 3), True, input_size=3, hidden_size=4, bias=False),
    _case("gru_long_seq", "GRU", (100, 4, 8), input_size=8, hidden_size=16, num_layers=2),
]


def _flatten(result):
    out, states = result
    return [out, *(states if isinstance(states, tuple) else (states,))]


def _state_shape(case, t_mod, shape):
    d = 2 if t_mod.bidirectional else 1
    if len(shape) == 2:
        return (d * t_mod.num_layers, t_mod.hidden_size)
    n = shape[0] if t_mod.batch_first else shape[1]
    return (d * t_mod.num_layers, n, t_mod.hidden_size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_layer_matches_torch(case, dtype):
    torch.manual_seed(0)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    t_mod = getattr(torch.nn, case.cls)(**case.kwargs).to(tdt)
    s_mod = getattr(nn, case.cls)(**case.kwargs).to(dtype)
    assert list(s_mod.state_dict()) == list(t_mod.state_dict())
    for (k, a), b in zip(s_mod.state_dict().items(), t_mod.state_dict().values()):
        assert tuple(a.shape) == tuple(b.shape), k
    s_mod.load_state_dict({k: v.numpy() for k, v in t_mod.state_dict().items()})
    s_mod.train(case.train)
    t_mod.train(case.train)
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(case.shape).astype(dtype)]
    if case.init_states:
        n_states = 2 if case.cls == "LSTM" else 1
        state_shape = _state_shape(case, t_mod, case.shape)
        arrays += [rng.standard_normal(state_shape).astype(dtype) for _ in range(n_states)]
    s_in = [st.from_numpy(a).requires_grad_(True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]

    def call(mod, ins):
        if len(ins) == 1:
            return mod(ins[0])
        return mod(ins[0], tuple(ins[1:]) if case.cls == "LSTM" else ins[1])

    outs_s, outs_t = _flatten(call(s_mod, s_in)), _flatten(call(t_mod, t_in))
    rtol = RTOL[dtype]
    loss_s = loss_t = 0
    for k, (a, b) in enumerate(zip(outs_s, outs_t)):
        assert_close(a.numpy(), b.detach().numpy(), rtol, f"output {k}")
        w = rng.standard_normal(b.shape).astype(dtype)
        loss_s = loss_s + (a * st.from_numpy(w)).sum()
        loss_t = loss_t + (b * torch.from_numpy(w)).sum()
    loss_s.backward()
    loss_t.backward()
    for k, (a, b) in enumerate(zip(s_in, t_in)):
        assert_close(a.grad.numpy(), b.grad.numpy(), rtol, f"d/dinput{k}")
    for (name, ps), pt in zip(s_mod.named_parameters(), t_mod.parameters()):
        assert_close(ps.grad.numpy(), pt.grad.numpy(), rtol, f"d/d{name}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,kwargs", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu", "bias": False}),
                                        ("LSTMCell", {}), ("GRUCell", {}), ("GRUCell", {"bias": False})])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_torch(cls, kwargs, dtype, batched):
    torch.manual_seed(0)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    t_mod = getattr(torch.nn, cls)(3, 5, **kwargs).to(tdt)
    s_mod = getattr(nn, cls)(3, 5, **kwargs).to(dtype)
    assert list(s_mod.state_dict()) == list(t_mod.state_dict())
    s_mod.load_state_dict({k: v.numpy() for k, v in t_mod.state_dict().items()})
    rng = np.random.default_rng(2)
    lead = (4,) if batched else ()
    x = rng.standard_normal(lead + (3,)).astype(dtype)
    states = [rng.standard_normal(lead + (5,)).astype(dtype) for _ in range(2 if cls == "LSTMCell" else 1)]
    s_in = [st.from_numpy(a).requires_grad_(True) for a in [x, *states]]
    t_in = [torch.tensor(a, requires_grad=True) for a in [x, *states]]
    hx_s = tuple(s_in[1:]) if cls == "LSTMCell" else s_in[1]
    hx_t = tuple(t_in[1:]) if cls == "LSTMCell" else t_in[1]
    out_s, out_t = s_mod(s_in[0], hx_s), t_mod(t_in[0], hx_t)
    out_s = list(out_s) if isinstance(out_s, tuple) else [out_s]
    out_t = list(out_t) if isinstance(out_t, tuple) else [out_t]
    rtol = RTOL[dtype]
    for a, b in zip(out_s, out_t):
        assert_close(a.numpy(), b.detach().numpy(), rtol, "output")
    sum(((a * (k + 1.5)).sum() for k, a in enumerate(out_s)), st.tensor(0.0, dtype=dtype)).backward()
    sum((b * (k + 1.5)).sum() for k, b in enumerate(out_t)).backward()
    for a, b in zip(s_in, t_in):
        assert_close(a.grad.numpy(), b.grad.numpy(), rtol, "d/dinput")
    for ps, pt in zip(s_mod.parameters(), t_mod.parameters()):
        assert_close(ps.grad.numpy(), pt.grad.numpy(), rtol, "d/dparam")
    assert_close(s_mod(s_in[0])[0].numpy() if cls == "LSTMCell" else s_mod(s_in[0]).numpy(),
                 (t_mod(t_in[0])[0] if cls == "LSTMCell" else t_mod(t_in[0])).detach().numpy(), rtol, "no hx")


@pytest.mark.parametrize("mode,gates", [("RNN_TANH", 1), ("RNN_RELU", 1), ("LSTM", 4), ("GRU", 3)])
@pytest.mark.parametrize("reverse", [False, True])
def test_bptt_gradcheck_float64(mode, gates, reverse):
    rng = np.random.default_rng(3)
    T, N, I, H = 4, 2, 3, 3
    n_states = 2 if mode == "LSTM" else 1
    arrays = [rng.standard_normal((T, N, I))] + [rng.standard_normal((N, H)) for _ in range(n_states)]
    arrays += [rng.standard_normal((gates * H, I)) * 0.5, rng.standard_normal((gates * H, H)) * 0.5,
               rng.standard_normal(gates * H) * 0.5, rng.standard_normal(gates * H) * 0.5]
    ts = [st.from_numpy(a).requires_grad_(True) for a in arrays]

    def f(x, *rest):
        out, finals = recurrent_layer(mode, x, rest[:n_states], rest[n_states:], reverse=reverse)
        return st.cat([out.reshape(-1), *[s.reshape(-1) for s in finals]])

    assert st.autograd.gradcheck(f, ts, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_initialisation_and_errors():
    st.manual_seed(0)
    m = nn.GRU(10, 25, num_layers=2, bidirectional=True)
    bound = 1 / np.sqrt(25)
    values = np.concatenate([p.numpy().ravel() for p in m.parameters()])
    assert values.min() >= -bound and values.max() <= bound and values.std() > 0.8 * bound / np.sqrt(3)
    assert m.weight_ih_l1_reverse.shape == (75, 50)
    with pytest.raises(ValueError, match="input_size=10"):
        m(st.randn(4, 2, 9))
    with pytest.raises(ValueError, match="num_layers \\* num_directions"):
        m(st.randn(4, 2, 10), st.randn(2, 2, 25))
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


def test_dropout_between_layers_is_seeded_and_only_in_training():
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = st.randn(5, 2, 3)
    st.manual_seed(1)
    a = m(x)[0].numpy()
    st.manual_seed(1)
    b = m(x)[0].numpy()
    c = m(x)[0].numpy()
    m.eval()
    d, e = m(x)[0].numpy(), m(x)[0].numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, c)  # seeded masks, fresh per call
    assert np.array_equal(d, e) and not np.array_equal(a, d)  # no dropout in evaluation


PACKED = [("LSTM", {"num_layers": 2, "bidirectional": True}), ("GRU", {"bidirectional": True}),
          ("RNN", {"num_layers": 2, "nonlinearity": "relu"}), ("LSTM", {})]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,kwargs", PACKED, ids=[f"{c}-{sorted(k.items())}" for c, k in PACKED])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_unequal_lengths_match_torch(cls, kwargs, dtype, enforce_sorted):
    """A padded batch of unequal lengths through pack_padded_sequence: outputs, h_n at each
    sample's own last frame (the reverse direction starting there) and all gradients."""
    torch.manual_seed(0)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    t_mod = getattr(torch.nn, cls)(3, 4, **kwargs).to(tdt)
    s_mod = getattr(nn, cls)(3, 4, **kwargs).to(dtype)
    s_mod.load_state_dict({k: v.numpy() for k, v in t_mod.state_dict().items()})
    lengths = [7, 5, 5, 2] if enforce_sorted else [3, 7, 1, 5]
    rng = np.random.default_rng(4)
    x = rng.standard_normal((7, 4, 3)).astype(dtype)
    n_states = 2 if cls == "LSTM" else 1
    d = 2 if t_mod.bidirectional else 1
    h0 = [rng.standard_normal((d * t_mod.num_layers, 4, 4)).astype(dtype) for _ in range(n_states)]
    s_in = [st.from_numpy(a).requires_grad_(True) for a in [x, *h0]]
    t_in = [torch.tensor(a, requires_grad=True) for a in [x, *h0]]
    ps = nn.utils.rnn.pack_padded_sequence(s_in[0], lengths, enforce_sorted=enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(t_in[0], torch.tensor(lengths),
                                                 enforce_sorted=enforce_sorted)
    assert np.array_equal(ps.batch_sizes.numpy(), pt.batch_sizes.numpy())
    assert_close(ps.data.numpy(), pt.data.detach().numpy(), 0, "packed data")
    hx_s = tuple(s_in[1:]) if cls == "LSTM" else s_in[1]
    hx_t = tuple(t_in[1:]) if cls == "LSTM" else t_in[1]
    out_s, state_s = s_mod(ps, hx_s)
    out_t, state_t = t_mod(pt, hx_t)
    ys, ls = nn.utils.rnn.pad_packed_sequence(out_s, batch_first=True)
    yt, lt = torch.nn.utils.rnn.pad_packed_sequence(out_t, batch_first=True)
    assert np.array_equal(ls.numpy(), lt.numpy())
    rtol = RTOL[dtype]
    outs_s = [ys, *(state_s if cls == "LSTM" else (state_s,))]
    outs_t = [yt, *(state_t if cls == "LSTM" else (state_t,))]
    loss_s = loss_t = 0
    for k, (a, b) in enumerate(zip(outs_s, outs_t)):
        assert_close(a.numpy(), b.detach().numpy(), rtol, f"output {k}")
        w = rng.standard_normal(b.shape).astype(dtype)
        loss_s = loss_s + (a * st.from_numpy(w)).sum()
        loss_t = loss_t + (b * torch.from_numpy(w)).sum()
    loss_s.backward()
    loss_t.backward()
    for k, (a, b) in enumerate(zip(s_in, t_in)):
        assert_close(a.grad.numpy(), b.grad.numpy(), rtol, f"d/dinput{k}")
    for (name, p_s), p_t in zip(s_mod.named_parameters(), t_mod.parameters()):
        assert_close(p_s.grad.numpy(), p_t.grad.numpy(), rtol, f"d/d{name}")


def test_pad_and_pack_sequence_utilities_match_torch():
    rng = np.random.default_rng(5)
    seqs = [rng.standard_normal((n, 2)) for n in (2, 5, 3)]
    a = nn.utils.rnn.pad_sequence([st.from_numpy(s) for s in seqs], batch_first=True, padding_value=-1.0)
    b = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=True, padding_value=-1.0)
    assert np.array_equal(a.numpy(), b.numpy())
    pa = nn.utils.rnn.pack_sequence([st.from_numpy(s) for s in seqs], enforce_sorted=False)
    pb = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    assert np.array_equal(pa.data.numpy(), pb.data.numpy())
    assert np.array_equal(pa.sorted_indices.numpy(), pb.sorted_indices.numpy())
    padded, lengths = nn.utils.rnn.pad_packed_sequence(pa, total_length=6)
    assert padded.shape == (6, 3, 2) and lengths.tolist() == [2, 5, 3]
    with pytest.raises(ValueError, match="enforce_sorted"):
        nn.utils.rnn.pack_padded_sequence(st.randn(5, 3, 2), [2, 5, 3])


def test_packed_gradcheck_float64():
    st.manual_seed(0)
    m = nn.GRU(2, 3, bidirectional=True).double()
    x = st.from_numpy(np.random.default_rng(6).standard_normal((4, 3, 2))).requires_grad_(True)

    def f(x):
        out, h = m(nn.utils.rnn.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False))
        return st.cat([nn.utils.rnn.pad_packed_sequence(out)[0].reshape(-1), h.reshape(-1)])

    assert st.autograd.gradcheck(f, [x], eps=1e-6, atol=1e-6, rtol=1e-4)
