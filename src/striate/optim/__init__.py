"""Optimizers and learning-rate schedules, named as in `torch.optim`.

Each optimizer is a short per-parameter update with its exact formula in the docstring
(and how it relates to the lectures' notation); trajectories match `torch.optim` step by step.
"""

from striate.optim import lr_scheduler
from striate.optim.adadelta import Adadelta
from striate.optim.adagrad import Adagrad
from striate.optim.adam import Adam, AdamW
from striate.optim.adamax import Adamax  # issue 21 (i21-misc): Adamax, ASGD, LBFGS, NAdam, RAdam
from striate.optim.asgd import ASGD
from striate.optim.lbfgs import LBFGS
from striate.optim.nadam import NAdam
from striate.optim.optimizer import Optimizer
from striate.optim.radam import RAdam
from striate.optim.rmsprop import RMSprop
from striate.optim.sgd import SGD

__all__ = ["ASGD", "LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "lr_scheduler"]
