"""Installed as `mindgym_train`: the ms-swift curriculum launcher and the evalscope runner."""
