"""cimjax.energy"""
