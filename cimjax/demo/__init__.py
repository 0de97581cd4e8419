"""cimjax.demo"""
