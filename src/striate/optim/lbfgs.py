"""L-BFGS (Liu & Nocedal 1989), as `torch.optim.LBFGS`: a quasi-Newton method that re-evaluates
the loss itself, so `step(closure)` needs the closure.

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss
    optimizer.step(closure)

One `step` runs up to `max_iter` iterations. Each builds the direction d = -H g from the last
`history_size` pairs s = x_{k+1} - x_k, y = g_{k+1} - g_k with the two-loop recursion (H_0 =
s.y / y.y times the identity), then moves x <- x + t d with t = lr (the first iteration of all
scales it by min(1, 1 / |g|_1)), or with the step the strong-Wolfe line search finds
(`line_search_fn="strong_wolfe"`, `striate.optim.line_search`). It stops early when the gradient
or the change in loss or parameters falls below the tolerances. Every branch follows PyTorch's
code, so the iterates agree with torch's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from striate.autograd.function import enable_grad
from striate.optim.line_search import strong_wolfe
from striate.optim.optimizer import Optimizer, check_non_negative


class LBFGS(Optimizer):
    """`LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
    tolerance_change=1e-9, history_size=100, line_search_fn=None)`; one parameter group only."""

    def __init__(self, params: Any, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        check_non_negative(lr, "learning rate")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval, "tolerance_grad": tolerance_grad,
                    "tolerance_change": tolerance_change, "history_size": history_size,
                    "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): pass one "
                             "list of parameters")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ------------------------------------------------------------------ flat views of the parameters
    def _gather_flat_grad(self) -> np.ndarray:
        return np.concatenate([np.zeros(p.array.size, p.array.dtype) if p.grad is None
                               else p.grad.array.reshape(-1) for p in self._params])

    def _add_grad(self, step_size: Any, update: np.ndarray) -> None:
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += p.array.dtype.type(step_size) * update[offset:offset + n].reshape(p.array.shape)
            p._version += 1
            offset += n

    def _clone_param(self) -> list[np.ndarray]:
        return [p.array.copy() for p in self._params]

    def _set_param(self, params_data: list[np.ndarray]) -> None:
        for p, data in zip(self._params, params_data):
            p.array[...] = data
            p._version += 1

    def _directional_evaluate(self, closure: Callable[[], Any], x: list[np.ndarray], t: Any,
                              d: np.ndarray) -> tuple[float, np.ndarray]:
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ------------------------------------------------------------------ the step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Up to `max_iter` L-BFGS iterations; returns the loss the closure gave first."""
        if closure is None:
            raise TypeError("LBFGS.step() needs a closure that recomputes the loss: "
                            "optimizer.step(closure), where closure() zeroes the gradients, computes the "
                            "loss, calls loss.backward() and returns the loss")

        def evaluate() -> Any:
            with enable_grad():
                return closure()

        self._step_called = True
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= group["tolerance_grad"]:
            return orig_loss
        self._iterate(evaluate, group, state, loss, flat_grad, current_evals)
        return orig_loss

    def _iterate(self, evaluate: Callable[[], Any], group: dict, state: dict, loss: float,
                 flat_grad: np.ndarray, current_evals: int) -> None:
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        d, t = state.get("d"), state.get("t")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
            else:
                d = self._direction(state, flat_grad, prev_flat_grad, d, t, group["history_size"])
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            one = flat_grad.dtype.type(1.0)
            t = min(one, one / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:  # not a descent direction
                break
            ls_func_evals = 0
            if group["line_search_fn"] is not None:
                x_init = self._clone_param()

                def obj_func(x: Any, t: Any, d: np.ndarray) -> tuple[float, np.ndarray]:
                    return self._directional_evaluate(evaluate, x, t, d)

                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:  # re-evaluate the function only when iterating on
                    loss = float(evaluate())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if (n_iter == max_iter or current_evals >= max_eval or opt_cond
                    or np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change):
                break
        state.update(d=d, t=t, prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)

    @staticmethod
    def _direction(state: dict, flat_grad: np.ndarray, prev_flat_grad: np.ndarray, d: np.ndarray,
                   t: Any, history_size: int) -> np.ndarray:
        """The two-loop recursion: d = -H g from the stored (s, y) pairs, after adding the newest."""
        old_dirs, old_stps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        y = flat_grad - prev_flat_grad
        s = d * d.dtype.type(t)
        ys = y.dot(s)
        if ys > 1e-10:  # keep the pair only when the curvature condition holds
            if len(old_dirs) == history_size:
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            state["H_diag"] = ys / y.dot(y)
        num_old = len(old_dirs)
        al = state.setdefault("al", [None] * history_size)
        q = -flat_grad
        for i in range(num_old - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q += -al[i] * old_dirs[i]
        r = q * state["H_diag"]
        for i in range(num_old):
            be_i = old_dirs[i].dot(r) * ro[i]
            r += (al[i] - be_i) * old_stps[i]
        return r

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by `state_dict()` of an LBFGS over the same parameters (the
        history lists are copied as they are)."""
        saved = copy.deepcopy(state_dict)
        entries = saved.get("state", {})
        self.state.clear()
        if entries:
            self.state[self._params[0]] = {k: (v.array.copy() if hasattr(v, "array") else v)
                                           for k, v in next(iter(entries.values())).items()}
        for key, value in saved["param_groups"][0].items():
            if key != "params":
                self.param_groups[0][key] = value
