"""sEMG decoders: shapes, output lengths, and the TDS-conv baseline against a PyTorch twin."""

import numpy as np
import pytest

import striate as st
from striate.models.emg import EMG_MODELS, TDSConvCTC, cnn_gru_ctc, gru_ctc, lstm_ctc, tds_conv_ctc

torch = pytest.importorskip("torch")
tnn = torch.nn

SMALL = {"electrodes": 4, "freq": 5, "mlp_features": (8,)}


@pytest.mark.parametrize(
    "name,kwargs,lengths,context",
    [
        ("tds_conv", {"block_channels": (4, 4), "kernel_width": 3}, (16, 11), 4),
        ("lstm", {"hidden_size": 6, "num_layers": 2}, (5, 3), 0),
        (
            "gru",
            {"hidden_size": 6, "bidirectional": False, "time_stride": 1, "rotation_invariant": True},
            (20, 15),
            0,
        ),
        (
            "cnn_gru",
            {"block_channels": (4,), "kernel_width": 5, "hidden_size": 6, "time_stride": 2},
            (8, 5),
            4,
        ),
    ],
)
def test_shapes_and_lengths(name, kwargs, lengths, context):
    model = EMG_MODELS[name](**SMALL, **kwargs)
    x = st.randn(20, 3, 2, 4, 5)
    y = model(x)
    assert y.shape == (lengths[0], 3, 99)
    np.testing.assert_allclose(np.exp(y.numpy()).sum(-1), 1, rtol=1e-5)  # log-probabilities
    assert list(model.output_lengths(np.array([20, 15]))) == list(lengths)
    assert model.context_frames() == context
    y.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_paper_sizes():
    m = tds_conv_ctc()
    assert sum(p.numel() for p in m.parameters()) == 5_293_315  # emg2qwerty's TDSConvCTCModule
    assert m.encoder.shrink == 4 * 31  # 125 frames of receptive field
    with pytest.raises(ValueError, match="must divide"):
        cnn_gru_ctc(mlp_features=(64,), block_channels=(24,))
    assert isinstance(lstm_ctc(**SMALL, hidden_size=4).rnn, st.nn.LSTM)
    assert isinstance(gru_ctc(**SMALL, hidden_size=4).rnn, st.nn.GRU)


class _TorchTwin(tnn.Module):
    """The same network in PyTorch, module names matching striate's state_dict keys."""

    def __init__(self, electrodes, freq, mlp, channels, kernel):
        super().__init__()
        feat = 2 * mlp
        self.front = tnn.Module()
        self.front.spec_norm = tnn.Module()
        self.front.spec_norm.batch_norm = tnn.BatchNorm2d(2 * electrodes)
        self.front.mlp = tnn.Module()
        self.front.mlp.mlps = tnn.ModuleList()
        for _ in range(2):
            band = tnn.Module()
            band.mlp = tnn.Sequential(tnn.Linear(electrodes * freq, mlp), tnn.ReLU())
            self.front.mlp.mlps.append(band)
        blocks = []
        for c in channels:
            conv = tnn.Module()
            conv.conv2d, conv.layer_norm = tnn.Conv2d(c, c, (1, kernel)), tnn.LayerNorm(feat)
            fc = tnn.Module()
            fc.fc_block = tnn.Sequential(tnn.Linear(feat, feat), tnn.ReLU(), tnn.Linear(feat, feat))
            fc.layer_norm = tnn.LayerNorm(feat)
            blocks += [conv, fc]
        self.encoder = tnn.ModuleList(blocks)
        self.channels = channels
        self.classifier = tnn.Linear(feat, 99)

    def forward(self, x):
        t, n, b, c, f = x.shape
        y = self.front.spec_norm.batch_norm(x.movedim(0, -1).reshape(n, b * c, f, t)).reshape(n, b, c, f, t)
        y = y.movedim(-1, 0)
        bands = []
        for i, band in enumerate(self.front.mlp.mlps):
            xb = y[:, :, i]
            rolled = torch.stack([xb.roll(o, dims=2) for o in (-1, 0, 1)], dim=2).flatten(3)
            bands.append(band.mlp(rolled).mean(2))
        h = torch.stack(bands, 2).flatten(2)
        for k, ch in enumerate(self.channels):
            conv, fc = self.encoder[2 * k], self.encoder[2 * k + 1]
            tt, nn_, cc = h.shape
            z = torch.relu(conv.conv2d(h.movedim(0, -1).reshape(nn_, ch, cc // ch, tt)))
            z = z.reshape(nn_, cc, -1).movedim(-1, 0)
            h = conv.layer_norm(z + h[-z.shape[0] :])
            h = fc.layer_norm(fc.fc_block(h) + h)
        return torch.log_softmax(self.classifier(h), -1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tds_conv_matches_pytorch_forward_and_backward(dtype):
    model = TDSConvCTC(electrodes=4, freq=5, mlp_features=(8,), block_channels=(4, 2), kernel_width=3)
    twin = _TorchTwin(4, 5, 8, (4, 2), 3)
    twin.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in model.state_dict().items()})
    if dtype == "float64":
        model, twin = model.double(), twin.double()
    x = np.random.default_rng(0).standard_normal((12, 3, 2, 4, 5)).astype(dtype)
    xs, xt = st.from_numpy(x).requires_grad_(), torch.tensor(x, requires_grad=True)
    ys, yt = model(xs), twin(xt)
    tol = 1e-5 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(ys.numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(1).standard_normal(ys.shape).astype(dtype)
    ys.backward(st.from_numpy(g))
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
    grads = {k: p.grad for k, p in twin.named_parameters()}
    for k, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[k].numpy(), rtol=tol, atol=tol * 10, err_msg=k)
