"""cimjax.crossbar"""
