"""`st.utils`: the home of PyTorch's `torch.utils` names that striate has (`st.utils.data`)."""

from striate.utils import data

__all__ = ["data"]
