"""cimjax.trng"""
