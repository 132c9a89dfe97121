"""st.utils.data draws PyTorch's random stream: the same batches, splits and samples as
torch.utils.data after the same seed, and the global stream left where torch leaves it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import striate as st
import striate.utils.data as sud


def _indices(loader) -> list[list[int]]:
    return [batch.tolist() for batch in loader]


def _same_global_stream() -> None:
    """After the same draws, the next weights drawn from each global generator are equal."""
    np.testing.assert_array_equal(st.randn(40).numpy(), torch.randn(40).numpy())


@pytest.mark.parametrize("seed", [0, 1, 42, 2**40 + 3])
@pytest.mark.parametrize("n, batch_size, drop_last", [(23, 4, False), (23, 4, True), (64, 8, False),
                                                      (5, 7, False), (5, 7, True), (1, 1, False)])
def test_shuffled_batches_equal_torch_epoch_after_epoch(seed, n, batch_size, drop_last):
    st.manual_seed(seed)
    torch.manual_seed(seed)
    ours = sud.DataLoader(list(range(n)), batch_size=batch_size, shuffle=True, drop_last=drop_last)
    theirs = tud.DataLoader(list(range(n)), batch_size=batch_size, shuffle=True, drop_last=drop_last)
    assert len(ours) == len(theirs)
    for _ in range(3):
        assert _indices(ours) == _indices(theirs)
        _same_global_stream()


def test_an_abandoned_epoch_draws_what_torch_draws():
    st.manual_seed(3)
    torch.manual_seed(3)
    ours = sud.DataLoader(list(range(50)), batch_size=5, shuffle=True)
    theirs = tud.DataLoader(list(range(50)), batch_size=5, shuffle=True)
    for a, b in zip(ours, theirs):  # break after the first batch
        assert a.tolist() == b.tolist()
        break
    _same_global_stream()
    iter(ours), iter(theirs)  # an iterator never advanced draws the base seed only
    _same_global_stream()
    assert _indices(ours) == _indices(theirs)


@pytest.mark.parametrize("seed", [0, 5])
def test_explicit_generator_leaves_the_global_stream_alone(seed):
    st.manual_seed(11)
    torch.manual_seed(11)
    g_st, g_t = st.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    ours = sud.DataLoader(list(range(30)), batch_size=4, shuffle=True, generator=g_st)
    theirs = tud.DataLoader(list(range(30)), batch_size=4, shuffle=True, generator=g_t)
    for _ in range(2):
        assert _indices(ours) == _indices(theirs)
    _same_global_stream()


@pytest.mark.parametrize("replacement, num_samples", [(False, None), (False, 7), (False, 45), (True, None),
                                                      (True, 31), (True, 100)])
def test_random_sampler_equals_torch(replacement, num_samples):
    data = list(range(20))
    st.manual_seed(2)
    torch.manual_seed(2)
    for gen in (None, 9):
        g_st = None if gen is None else st.Generator().manual_seed(gen)
        g_t = None if gen is None else torch.Generator().manual_seed(gen)
        ours = sud.RandomSampler(data, replacement=replacement, num_samples=num_samples, generator=g_st)
        theirs = tud.RandomSampler(data, replacement=replacement, num_samples=num_samples, generator=g_t)
        assert len(ours) == len(theirs)
        assert list(ours) == list(theirs)
        assert list(ours) == list(theirs)
    _same_global_stream()


def test_subset_random_sampler_equals_torch():
    st.manual_seed(4)
    torch.manual_seed(4)
    indices = [3, 9, 27, 81, 5, 25]
    assert list(sud.SubsetRandomSampler(indices)) == list(tud.SubsetRandomSampler(indices))
    g_st, g_t = st.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert list(sud.SubsetRandomSampler(indices, g_st)) == list(tud.SubsetRandomSampler(indices, g_t))
    _same_global_stream()


@pytest.mark.parametrize("weights", [[0.1, 0.9, 0.4, 0.7, 3.0, 0.6], [1.0] * 40, [0.0, 2.0, 0.0, 1.0, 5.0],
                                     list(np.random.default_rng(0).random(300))])
@pytest.mark.parametrize("num_samples, replacement", [(1, True), (5, True), (1000, True), (1, False),
                                                      (3, False)])
def test_weighted_random_sampler_equals_torch_multinomial(weights, num_samples, replacement):
    st.manual_seed(8)
    torch.manual_seed(8)
    if not replacement and num_samples > sum(w > 0 for w in weights):
        pytest.skip("more samples than non-zero weights without replacement: torch's order of ties is "
                    "unspecified")
    ours = sud.WeightedRandomSampler(weights, num_samples, replacement=replacement)
    theirs = tud.WeightedRandomSampler(weights, num_samples, replacement=replacement)
    for _ in range(2):
        assert list(ours) == list(theirs)
    _same_global_stream()


@pytest.mark.parametrize("bad", [[-1.0, 2.0], [0.0, 0.0], [1.0, float("inf")], [1.0, float("nan")]])
@pytest.mark.parametrize("num_samples, replacement", [(2, True), (1, True), (2, False)])
def test_weighted_random_sampler_refuses_bad_weights_with_torchs_message(bad, num_samples, replacement):
    with pytest.raises(RuntimeError) as theirs:
        list(tud.WeightedRandomSampler(bad, num_samples, replacement))
    with pytest.raises(ValueError) as ours:
        list(sud.WeightedRandomSampler(bad, num_samples, replacement))
    assert str(theirs.value) in str(ours.value)
    assert "weights must be finite, non-negative and not all zero" in str(ours.value)


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.3, 0.4], [0.5, 0.5], [10, 0], [0.25, 0.75], [1]])
def test_random_split_equals_torch(lengths):
    data = list(range(10)) if lengths != [1] else [42]
    st.manual_seed(6)
    torch.manual_seed(6)
    ours = sud.random_split(data, lengths)
    theirs = tud.random_split(data, lengths)
    assert [list(s.indices) for s in ours] == [list(s.indices) for s in theirs]
    assert [[s[i] for i in range(len(s))] for s in ours] == [list(s) for s in theirs]
    _same_global_stream()
    g_st, g_t = st.Generator().manual_seed(42), torch.Generator().manual_seed(42)
    ours = sud.random_split(data, lengths, generator=g_st)
    theirs = tud.random_split(data, lengths, generator=g_t)
    assert [list(s.indices) for s in ours] == [list(s.indices) for s in theirs]


def test_random_split_refuses_wrong_lengths():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        sud.random_split(range(10), [3, 8])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        sud.random_split(range(10), [-0.5, 1.5])


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (10, False), (11, True)])
def test_batch_sampler_and_custom_batch_sampler_loader(batch_size, drop_last):
    st.manual_seed(1)
    torch.manual_seed(1)
    ours = sud.BatchSampler(sud.RandomSampler(range(10)), batch_size, drop_last)
    theirs = tud.BatchSampler(tud.RandomSampler(range(10)), batch_size, drop_last)
    assert len(ours) == len(theirs)
    assert list(ours) == list(theirs)
    data = [float(i) for i in range(10)]
    a = sud.DataLoader(data, batch_sampler=sud.BatchSampler(sud.SequentialSampler(data), batch_size,
                                                            drop_last))
    b = tud.DataLoader(data, batch_sampler=tud.BatchSampler(tud.SequentialSampler(data), batch_size,
                                                            drop_last))
    assert _indices(a) == _indices(b)
    _same_global_stream()


def test_sampler_option_and_batch_size_none():
    st.manual_seed(0)
    torch.manual_seed(0)
    data = [np.float32(i) for i in range(9)]
    ours = sud.DataLoader(data, batch_size=2, sampler=sud.RandomSampler(data, replacement=True))
    theirs = tud.DataLoader(data, batch_size=2, sampler=tud.RandomSampler(data, replacement=True))
    assert _indices(ours) == _indices(theirs)
    unbatched = [x.item() for x in sud.DataLoader(data, batch_size=None, shuffle=True)]
    assert unbatched == [x.item() for x in tud.DataLoader(data, batch_size=None, shuffle=True)]
    _same_global_stream()


@pytest.mark.parametrize("num_workers", [1, 2, 3])
def test_workers_give_the_batches_of_num_workers_0(num_workers):
    data = sud.TensorDataset(st.arange(37).float(), st.arange(37))
    st.manual_seed(5)
    serial = [[t.tolist() for t in batch] for batch in sud.DataLoader(data, batch_size=4, shuffle=True)]
    st.manual_seed(5)
    loader = sud.DataLoader(data, batch_size=4, shuffle=True, num_workers=num_workers)
    assert [[t.tolist() for t in batch] for batch in loader] == serial
    torch.manual_seed(5)
    tdata = tud.TensorDataset(torch.arange(37).float(), torch.arange(37))
    torch_labels = [b[1].tolist() for b in tud.DataLoader(tdata, batch_size=4, shuffle=True)]
    assert torch_labels == [b[1] for b in serial]


@pytest.mark.parametrize("n, replicas, shuffle, drop_last", [(10, 3, True, False), (10, 3, True, True),
                                                             (2, 5, True, False), (12, 4, False, False),
                                                             (7, 2, False, True)])
def test_distributed_sampler_equals_torch(n, replicas, shuffle, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchDistributedSampler

    for rank in range(replicas):
        options = {"shuffle": shuffle, "seed": 3, "drop_last": drop_last}
        ours = sud.DistributedSampler(range(n), replicas, rank, **options)
        theirs = TorchDistributedSampler(range(n), replicas, rank, **options)
        for epoch in range(2):
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert len(ours) == len(theirs)
            assert list(ours) == list(theirs)
    with pytest.raises(ValueError, match="Invalid rank 3"):
        sud.DistributedSampler(range(n), 3, 3)
    assert len(sud.DistributedSampler(range(n))) == n  # one process: rank 0 of 1
