"""`st.train`: the training loop, its callbacks, evaluation and random restarts."""

from striate.train.callbacks import (
    Callback,
    EarlyStopping,
    HistoryLogger,
    LambdaCallback,
    ModelCheckpoint,
    ProgressBar,
    ReduceLROnPlateau,
    SchedulerCallback,
)
from striate.train.metrics import History, confusion_matrix
from striate.train.restarts import random_restarts
from striate.train.runs import load_run
from striate.train.trainer import NonFiniteLossError, Trainer, TrainingInterrupted, evaluate, fit

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "HistoryLogger",
    "LambdaCallback",
    "ModelCheckpoint",
    "NonFiniteLossError",
    "ProgressBar",
    "ReduceLROnPlateau",
    "SchedulerCallback",
    "Trainer",
    "TrainingInterrupted",
    "confusion_matrix",
    "evaluate",
    "fit",
    "load_run",
    "random_restarts",
]
