"""Every measured threshold that chooses between fast paths, in one place.

These numbers change speed, never results: each path is tested against PyTorch and against
the reference path (`st.config.use_reference()`). They were measured on the project's 2-core
target (see the README's Speed section); the code reads them at call time, so a benchmark or a
test may change one for a while (`monkeypatch.setattr(striate.tuning, "STACK_BELOW", 0)`).

To run one particular convolution path whatever these thresholds say, use the supported
switch instead: `st.config.use_conv_path("winograd" | "im2col" | "reference")` (or
`set_conv_path`); "auto" (the default) lets the thresholds below decide.
"""

from __future__ import annotations

# --- threads and chunks (striate.kernels.parallel) --------------------------------------------
# Scratch memory per chunk of a batch. On the 2-core target (1 MiB L2 per core, 32 MiB L3) the
# CIFAR net's conv layers ran within 5% of each other with 512 KiB, 2 MiB and 8 MiB chunks; 2 MiB
# was best or tied on every layer (fwd and fwd+bwd, LeNet and CIFAR shapes).
CHUNK_BYTES = 2 << 20
# Below this many elements an elementwise op runs in one call: a thread hand-off costs ~20 us.
MIN_SPLIT_ELEMENTS = 1 << 16
# Below this many input pixels a windowed max (pooling) runs in one call, for the same reason.
MIN_SPLIT_PIXELS = 1 << 16
# Below this many multiply-adds a matrix product (linear layers) runs in one call.
MIN_SPLIT_MACS = 1 << 22

# --- im2col convolution (striate.ops.conv_im2col) ---------------------------------------------
# Output planes smaller than this many pixels use the stacked layout: a product per image would
# be too thin for BLAS (ResNet's 4x4 planes: (512 x 4608) @ (4608 x 16) per image).
STACK_BELOW = 256

# --- Winograd convolution (striate.ops.conv_winograd) -----------------------------------------
# Where the transforms pay, measured per layer against im2col (2 threads, fwd+bwd, batch 32-64):
# input channels from 8 for 3x3 filters and from 6 for 5x5 (LeNet-5's 6->16 layer: 1.5x faster;
# 3- and 4-channel layers were 1.5-2x slower: too little product to pay for the transforms);
# output channels from 4; transformed weights t*t*C*O up to those of a 256 x 256 3x3 layer
# (1.4x faster than im2col at 8 x 8; 128 x 128 at 16 x 16 2x); planes from 8 x 8 (at 4 x 4 a
# 512 x 512 layer ran as fast as im2col, and 1.1x slower forward).
WINOGRAD_MIN_IN_CHANNELS = {3: 8, 5: 6}
WINOGRAD_MIN_OUT_CHANNELS = 4
WINOGRAD_MAX_WEIGHT_VALUES = 16 * 256 * 256
WINOGRAD_MIN_SIDE = {3: 8, 5: 8}

# --- depthwise convolution (striate.ops.conv_depthwise) ---------------------------------------
# Layers with groups = in_channels > 1 always take the direct loop (see the module). A first layer
# with one input channel is the same computation (m = out_channels filters per channel); it takes
# the direct loop up to this many output channels.
DIRECT_FIRST_LAYER_MAX_OUT = 0

# --- nn.Sequential's peephole (striate.nn.layers.fused) ---------------------------------------
# Conv2d/Linear/BatchNorm then ReLU as one node, and eval-mode BatchNorm2d folded into the
# convolution before it (no gradient recorded). False: every module runs on its own (the graph
# is then PyTorch's node for node). Changes speed and the node count, not values (beyond
# float32 rounding of the folded weights).
FUSE_SEQUENTIAL = True

# --- the autograd graph's memory (striate.autograd.released) ----------------------------------
# A node keeps a weak reference, not the tensor, to each non-leaf input of at least this many
# bytes whose value its backward never reads (a batch norm's output feeding a ReLU, a residual
# sum): its memory returns when the program drops it, as in PyTorch (ResNet-18 at batch 32:
# the step's peak 407 -> see docs/notes). Smaller inputs stay referenced so `st.viz.graph`
# shows every value of small graphs. Changes memory, never values.
RELEASE_INPUTS_FROM_BYTES = 1 << 16
