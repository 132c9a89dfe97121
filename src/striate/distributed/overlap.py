"""All-reduce each bucket of gradients while the backward is still running.

The backward produces the gradients from the last layer to the first. A bucket's message can
leave as soon as every parameter in it has received all its gradient contributions, while the
backward computes the earlier layers. Before the backward the graph is walked once to count,
for each parameter, how many of the graph's nodes take it as an input (a weight used twice
gets two contributions); a hook on the parameter counts the contributions as they arrive, and
the last one starts the bucket's non-blocking all-reduce. Buckets that are never completed (a
node that passed no gradient) start after the backward; then all are waited for and copied
back. The numbers are those of the blocking all-reduce: the same buffers, scale and sums.
"""

from __future__ import annotations

from typing import Any

from striate.distributed.comm import Communicator
from striate.distributed.ddp import GradientBuckets


def leaf_uses(root: Any) -> dict[int, int]:
    """id(leaf) -> how many inputs of the nodes of `root`'s graph are that leaf."""
    uses: dict[int, int] = {}
    fn = root._ctx
    if fn is None:
        return uses
    seen, stack = {id(fn)}, [fn]
    while stack:
        for parent in stack.pop().parents or ():
            ctx = parent._ctx
            if ctx is None:
                if parent.requires_grad:
                    uses[id(parent)] = uses.get(id(parent), 0) + 1
            elif id(ctx) not in seen:
                seen.add(id(ctx))
                stack.append(ctx)
    return uses


class OverlappedAllreduce:
    """`start(loss, scale)` before `loss.backward()`, `finish()` after it.

    MPI needs every rank to start its collectives in the same order, whatever the timing, so
    the buckets leave in one fixed order, last bucket first (the backward's order): a completed
    bucket waits for the ones after it."""

    def __init__(self, buckets: GradientBuckets, comm: Communicator) -> None:
        self.buckets, self.comm = buckets, comm
        self.bucket_of = {id(p): i for i, b in enumerate(buckets.buckets) for p in b}
        self.active = False
        self.scale = 1.0
        self.left: dict[int, int] = {}
        self.pending: list[int] = []
        self.requests: list[Any] = []
        self.next_bucket = -1  # the next bucket to send; they go from the last to the first
        for p in buckets.params:
            p.register_hook(self._on_gradient)

    def start(self, loss: Any, scale: float) -> None:
        uses = leaf_uses(loss)
        self.left = {id(p): uses.get(id(p), 0) for p in self.buckets.params}
        self.pending = [sum(1 for p in b if self.left[id(p)] > 0) for b in self.buckets.buckets]
        self.requests = []
        self.next_bucket = len(self.buckets.buckets) - 1
        self.scale, self.active = scale, True
        self._send_ready()  # buckets the graph does not reach at all

    def _on_gradient(self, leaf: Any) -> None:
        if not self.active:
            return
        key = id(leaf)
        self.left[key] -= 1
        if self.left[key] == 0:
            self.pending[self.bucket_of[key]] -= 1
            self._send_ready()
        self.comm.test_all(self.requests)

    def _send_ready(self, everything: bool = False) -> None:
        while self.next_bucket >= 0 and (everything or self.pending[self.next_bucket] <= 0):
            buf = self.buckets.pack(self.next_bucket, self.scale)
            self.requests.append(self.comm.iallreduce_(buf))
            self.next_bucket -= 1

    def finish(self) -> None:
        """Send what is left, wait for every bucket, copy the sums back into the gradients."""
        self.active = False
        self._send_ready(everything=True)
        self.comm.wait_all(self.requests)
        for i in range(len(self.buckets.buckets)):
            self.buckets.unpack(i)
