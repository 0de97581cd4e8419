"""cimjax.device"""
