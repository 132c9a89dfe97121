"""Hand-written notes on known differences, shown in the compatibility table. A note with
`partial=True` marks a name that exists but behaves differently in a way a port can hit."""

from __future__ import annotations

from typing import NamedTuple


class Note(NamedTuple):
    text: str
    partial: bool = False


_CPU_ONLY = "CPU only: raises an error naming striate's CPU-only design"
_NO_DOWNLOAD_WEIGHTS = ("no download: `weights=` takes a local checkpoint path (torchvision's or striate's); "
                        "a torchvision weights name or `pretrained=True` raises an error naming the file to "
                        "fetch and the line that loads it")

NOTES: dict[str, Note] = {
    "torch.manual_seed": Note("PyTorch's CPU stream bit for bit: rand, randn, randint, randperm, normal, "
                              "default initialisation, dropout masks"),
    "torch.save": Note("writes safetensors + JSON, never pickle, whatever the file name (`mnist_cnn.pt` "
                       "too); `torch.load` cannot read it, any safetensors reader can"),
    "torch.load": Note("reads `st.save` files; `torch.save` files: `st.load_torch(path)` (no unpickling)"),
    "torch.float16": Note("a dtype name only: striate computes in float32 and float64", partial=True),
    "torch.bfloat16": Note("a dtype name only: NumPy has no bfloat16, so a tensor of it is a clear error",
                           partial=True),
    "torch.dtype": Note("one object per type, printed `striate.float32`; NumPy takes it as its own dtype "
                        "and it equals NumPy's (`t.dtype == np.float32`)"),
    "torch.Tensor.cuda": Note(_CPU_ONLY, partial=True),
    "torch.nn.Module.cuda": Note(_CPU_ONLY, partial=True),
    "torch.Tensor.to": Note("'cpu' and dtypes; 'cuda' / 'mps' raise an error naming the CPU-only design"),
    "torch.nn.Module.to": Note("'cpu' and dtypes; 'cuda' / 'mps' raise an error naming the CPU-only design"),
    "torch.autograd.Function": Note("PyTorch-style subclasses (static forward(ctx, ...) / backward(ctx, "
                                    "grad), save_for_backward, needs_input_grad) with one output Tensor; no "
                                    "mark_dirty / mark_non_differentiable / double backward", partial=True),
    "torch.set_default_device": Note("'cpu' accepted (changes nothing); other devices refused"),
    "torch.cuda.is_available": Note("always False: striate has no accelerator backend"),
    "torch.cuda.device_count": Note("always 0"),
    "torch.backends.mps.is_available": Note("always False"),
    "torch.accelerator.is_available": Note("always False"),
    "torch.accelerator.current_accelerator": Note("None"),
    "torch.backends.cudnn": Note("accepted settings without effect (no cuDNN)"),
    "torch.nn.functional.dropout": Note("masks equal PyTorch's after the same seed"),
    "torch.nn.functional.alpha_dropout": Note("masks and values equal PyTorch's after the same seed"),
    "torch.nn.AlphaDropout": Note("masks and values equal PyTorch's after the same seed"),
    "torchvision.datasets.MNIST": Note("items are float32 CxHxW tensors in [0, 1] where torchvision gives "
                                       "PIL images (ToTensor passes them through); reads torchvision's "
                                       "root/MNIST/raw, .gz or not"),
    "torchvision.datasets.FashionMNIST": Note("as MNIST; also Debian's /usr/share/datasets/fashion-mnist"),
    "torchvision.datasets.CIFAR10": Note("as MNIST: float32 CxHxW items; the python version read without "
                                         "unpickling"),
    "torchvision.models.resnet18": Note(_NO_DOWNLOAD_WEIGHTS, partial=True),
    "torchvision.models.resnet34": Note(_NO_DOWNLOAD_WEIGHTS, partial=True),
    "torchvision.models.resnet50": Note(_NO_DOWNLOAD_WEIGHTS, partial=True),
    # issue 21, i21-nn-b
    "torch.nn.Module.register_full_backward_hook": Note(
        "modules with one output tensor (several outputs: a clear error); with several tensor inputs "
        "that need gradients the hook sees them all but may not replace them", partial=True),
    "torch.nn.functional.grid_sample": Note("4-D inputs, bilinear and nearest; 5-D and bicubic are refused",
                                            partial=True),
    "torch.nn.functional.cosine_similarity": Note("PyTorch's eps rule: each norm floored at eps, the floor "
                                                  "invisible to the gradient"),
}
# issue 21 (i21-vision2): the models, datasets and transforms added with torchvision's numbers
NOTES.update({f"torchvision.models.{name}": Note(_NO_DOWNLOAD_WEIGHTS, partial=True) for name in (
    "resnet101", "resnet152", "mobilenet_v2", "densenet121", "densenet161", "densenet169", "densenet201",
    "squeezenet1_0", "squeezenet1_1", "alexnet", "vgg11", "vgg16", "vgg16_bn", "vgg19", "googlenet")})
NOTES.update({
    "torchvision.datasets.KMNIST": Note("as MNIST (root/KMNIST/raw)"),
    "torchvision.datasets.QMNIST": Note("as MNIST; `compat=False` targets are int64 tensors of the 8 label "
                                        "columns"),
    "torchvision.datasets.CIFAR100": Note("as CIFAR10 (binary or python version, never unpickled); "
                                          "`target_type='coarse'` gives the 20 superclasses"),
    "torchvision.datasets.SVHN": Note("as MNIST: float32 CxHxW items; the .mat files read by striate's own "
                                      "MATLAB v5 reader (no SciPy)"),
    "torchvision.datasets.FakeData": Note("torchvision's pixels and classes for each index (same generator "
                                          "rule); items float32 CxHxW tensors, what ToTensor makes of "
                                          "its PIL images"),
    "torchvision.transforms.GaussianBlur": Note("torchvision's kernel, reflection and sigma draw; integer "
                                                "images may differ by 1 where a sum lies within 1e-6 of .5"),
    "torchvision.transforms.RandomChoice": Note("draws from Python's `random`, as torchvision"),
    "torchvision.transforms.RandomOrder": Note("draws from Python's `random`, as torchvision"),
})
