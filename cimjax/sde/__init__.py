"""cimjax.sde"""
