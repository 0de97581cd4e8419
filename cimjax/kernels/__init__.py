"""cimjax.kernels"""
