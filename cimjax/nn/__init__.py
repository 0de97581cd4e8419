"""cimjax.nn"""
