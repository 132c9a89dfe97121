"""A small network built twice, in striate and in torch with the same weights, trained on the same
batches: the shared fixture of the optimizer and scheduler parity tests."""

import numpy as np
import torch

import striate as st
import striate.nn as nn
import striate.nn.functional as F
from harness import assert_close

# torch's intra-op threads turn these tiny steps from ~2 ms into ~50 ms on a shared 2-core machine
torch.set_num_threads(1)

RTOL = {np.float32: 1e-5, np.float64: 1e-10}
_rng = np.random.default_rng(1234)
INPUTS = _rng.standard_normal((10, 8, 6))
TARGETS = _rng.integers(0, 3, (10, 8))


def twin_models(dtype=np.float32):
    """(striate model, torch model): Linear(6, 5) - Tanh - Linear(5, 3), identical weights."""
    torch.manual_seed(0)
    t_model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    s_model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    if dtype == np.float64:
        t_model.double()
        s_model.double()
    s_model.load_state_dict({k: v.numpy() for k, v in t_model.state_dict().items()})
    return s_model, t_model


def loss_striate(model, step):
    x = st.tensor(INPUTS[step % len(INPUTS)], dtype=model[0].weight.dtype)
    return F.cross_entropy(model(x), st.tensor(TARGETS[step % len(TARGETS)]))


def loss_torch(model, step):
    x = torch.tensor(INPUTS[step % len(INPUTS)], dtype=model[0].weight.dtype)
    return torch.nn.functional.cross_entropy(model(x), torch.tensor(TARGETS[step % len(TARGETS)]))


def train_step(model, optimizer, step):
    """One step of the usual loop, in either library."""
    optimizer.zero_grad()
    loss = (loss_striate if isinstance(model, nn.Module) else loss_torch)(model, step)
    loss.backward()
    optimizer.step()
    return float(loss.item())


def assert_same_params(s_model, t_model, rtol, what):
    for (name, sp), tp in zip(s_model.named_parameters(), t_model.parameters()):
        assert sp.dtype == tp.detach().numpy().dtype, f"{what}: {name} dtype {sp.dtype}"
        assert_close(sp.numpy(), tp.detach().numpy(), rtol, f"{what}: {name}")
