"""CPU tests only: lets transformers 5.x build a Qwen2.5-VL processor where torchvision is missing.

transformers refuses to construct the processor without a video processor, and every video
processor needs torchvision, which has no CPU wheel here. We register an inert video processor
(images still work; any video raises) and an inert `torchvision` module for qwen_vl_utils'
top-level import. ms-swift loads it with `--external_plugins`. Never used outside tests."""

import enum
import importlib
import importlib.machinery
import importlib.util
import sys
import types

import transformers
from transformers.utils import is_torchvision_available

if not is_torchvision_available():
    _vpu = importlib.import_module("transformers.video_processing_utils")
    _vpa = importlib.import_module("transformers.models.auto.video_processing_auto")
    _pu = importlib.import_module("transformers.processing_utils")

    class InertVideoProcessor(_vpu.VideoProcessorMixin):
        model_input_names = ["pixel_values_videos", "video_grid_thw"]

        def __call__(self, *args, **kwargs):
            raise RuntimeError("video input needs torchvision (CPU test shim)")

        def to_dict(self):
            return {"video_processor_type": "InertVideoProcessor"}

    class _AutoVideoProcessor:
        @staticmethod
        def from_pretrained(*args, **kwargs):
            return InertVideoProcessor()

    for mod in (transformers, _pu.transformers_module):
        mod.VideoProcessorMixin = _vpu.VideoProcessorMixin
        mod.InertVideoProcessor = InertVideoProcessor
    _vpa.AutoVideoProcessor = transformers.AutoVideoProcessor = _AutoVideoProcessor

    if "torchvision" not in sys.modules and importlib.util.find_spec("torchvision") is None:

        class InterpolationMode(enum.Enum):
            NEAREST = "nearest"
            BILINEAR = "bilinear"
            BICUBIC = "bicubic"

        def _missing(*args, **kwargs):
            raise RuntimeError("torchvision is not installed (CPU test shim)")

        names = ("torchvision", "torchvision.io", "torchvision.transforms", "torchvision.transforms.functional")
        mods = {}
        for name in names:
            m = types.ModuleType(name)
            m.__spec__ = importlib.machinery.ModuleSpec(name, None)
            m.__getattr__ = lambda attr: _missing
            mods[name] = m
        mods["torchvision"].__version__ = "0.0.0+cpu-test-shim"
        mods["torchvision"].io, mods["torchvision"].transforms = mods["torchvision.io"], mods["torchvision.transforms"]
        mods["torchvision.transforms"].functional = mods["torchvision.transforms.functional"]
        mods["torchvision.transforms"].InterpolationMode = InterpolationMode
        mods["torchvision.transforms.functional"].InterpolationMode = InterpolationMode
        sys.modules.update(mods)
