"""cimjax: a JAX emulator of stochastic compute-in-memory hardware.

Layers, each importing only those below it:

  device   VCMA-MTJ physics: data-bit, P-bit switching probability, differential pair
  crossbar weight mapping, tiles, periphery (DAC/ADC), programming variation
  kernels  fused crossbar reads with in-situ P-bit dropconnect (XLA and Pallas)
  nn       flax layers and MC-dropconnect training on the crossbar
  sde      diffusion SDEs and samplers (ex-situ and in-situ noise)
  trng, energy, demo   applications
"""

__version__ = "0.1.0"
