"""PyTorch's names for striate's graph nodes (`grad_fn.name()`, `repr(t)`'s `grad_fn=<...>`).

PyTorch names a node after the ATen function whose derivative it is, plus a number telling
overloads apart (`AddBackward0`, `ConvolutionBackward0`). striate's `Function` classes are named
after the operation (`Add`, `Conv2dIm2col`); this table maps the common ones. A class not in the
table is named `<ClassName>Backward0`. Where one striate node covers what PyTorch splits by
argument (indexing is Select-, Slice- or IndexBackward0 there), the table names the general one.
"""

from __future__ import annotations

TORCH_NAMES = {
    # elementwise
    "Add": "AddBackward0", "Sub": "SubBackward0", "Mul": "MulBackward0", "Div": "DivBackward0",
    "PowScalar": "PowBackward0", "Pow": "PowBackward1", "Neg": "NegBackward0",
    "Exp": "ExpBackward0", "Log": "LogBackward0", "Sqrt": "SqrtBackward0", "Abs": "AbsBackward0",
    "Clamp": "ClampBackward1", "Maximum": "MaximumBackward0", "Minimum": "MinimumBackward0",
    "Where": "WhereBackward0",
    # activations
    "ReLU": "ReluBackward0", "LeakyReLU": "LeakyReluBackward0", "ELU": "EluBackward0",
    "Sigmoid": "SigmoidBackward0", "Tanh": "TanhBackward0", "Softmax": "SoftmaxBackward0",
    "LogSoftmax": "LogSoftmaxBackward0",
    # reductions
    "Sum": "SumBackward0", "Mean": "MeanBackward0", "Extreme": "MaxBackward1",
    "Var": "VarBackward0", "TakeAlong": "GatherBackward0",
    # shapes and indexing
    "Reshape": "ViewBackward0", "Permute": "PermuteBackward0", "Expand": "ExpandBackward0",
    "Cast": "ToCopyBackward0", "Clone": "CloneBackward0", "Cat": "CatBackward0",
    "Stack": "StackBackward0", "Repeat": "RepeatBackward0", "GetItem": "IndexBackward0",
    "CopySlices": "CopySlices",
    "Gather": "GatherBackward0", "Pad": "ConstantPadNdBackward0",
    # linear algebra, convolution, pooling, normalisation
    "MatMul": "MmBackward0", "Linear": "AddmmBackward0",
    "Conv2dIm2col": "ConvolutionBackward0", "Conv2dWinograd": "ConvolutionBackward0",
    "Conv2dReference": "ConvolutionBackward0", "ConvTranspose2d": "ConvolutionBackward0",
    "WindowMax": "MaxPool2DWithIndicesBackward0", "AvgPool2d": "AvgPool2DBackward0",
    "AdaptiveAvgPool2d": "AdaptiveAvgPool2DBackward0",
    "BatchNorm": "NativeBatchNormBackward0", "LayerNorm": "NativeLayerNormBackward0",
    "Dropout": "NativeDropoutBackward0", "Embedding": "EmbeddingBackward0",
    # losses
    "CrossEntropy": "NllLossBackward0", "NLL": "NllLossBackward0", "MSE": "MseLossBackward0",
    "BCEWithLogits": "BinaryCrossEntropyWithLogitsBackward0", "CTCLoss": "CtcLossBackward0",
    # issue 21 (i21-nn-a): losses, normalisation, activations
    "L1": "L1LossBackward0", "SmoothL1": "SmoothL1LossBackward0", "Huber": "HuberLossBackward0",
    "BinaryCrossEntropy": "BinaryCrossEntropyBackward0", "KLDiv": "KlDivBackward0",
    "SoftMargin": "SoftMarginLossBackward0", "GroupNorm": "NativeGroupNormBackward0",
    "SELU": "EluBackward0", "CELU": "CeluBackward0", "Softsign": "DivBackward0",
    "Tanhshrink": "SubBackward0", "Threshold": "ThresholdBackward0", "AlphaDropout": "AddBackward0",
    "Hardtanh": "HardtanhBackward0", "ELU_": "EluBackward1", "LeakyReLU_": "LeakyReluBackward1",
    "SELU_": "EluBackward1", "CELU_": "CeluBackward1", "Threshold_": "ThresholdBackward1",
    # spatial ops, distances, module hooks (issue 21, i21-nn-b)
    "PixelShuffle": "PixelShuffleBackward0", "PixelUnshuffle": "PixelUnshuffleBackward0",
    "Unfold": "Im2ColBackward0", "Fold": "Col2ImBackward0", "AffineGrid": "AffineGridGeneratorBackward0",
    "GridSample": "GridSampler2DBackward0", "MaxUnpool": "MaxUnpool2DBackward0",
    "Bilinear": "TrilinearBackward0", "FlooredNorm": "CloneBackward0",
    "BackwardHookFunction": "BackwardHookFunctionBackward",
    # in-place nodes (striate.ops.inplace)
    "Fill": "FillBackward0", "Copy": "CopyBackwards", "IndexPut": "IndexPutBackward0",
}


def torch_name(class_name: str) -> str:
    """PyTorch's node name for a striate Function class name."""
    name = TORCH_NAMES.get(class_name)
    return name if name is not None else f"{class_name.lstrip('_')}Backward0"
