"""Optimizers and learning-rate schedules, named as in `torch.optim`.

Each optimizer is a short per-parameter update with its exact formula in the docstring
(and how it relates to the lectures' notation); trajectories match `torch.optim` step by step.
"""

from striate.optim import lr_scheduler
from striate.optim.adadelta import Adadelta
from striate.optim.adagrad import Adagrad
from striate.optim.adam import Adam, AdamW
from striate.optim.optimizer import Optimizer
from striate.optim.rmsprop import RMSprop
from striate.optim.sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
