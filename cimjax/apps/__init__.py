"""cimjax.apps: the applications, above every library layer.

Each is a package of its own, run from the command line (`cimjax.cli`):

- `diffusion`: latent diffusion on the crossbar, ex-situ against in-situ P-bits
  (`cimjax demo`, `cimjax sample`; Figs. 21, 24);
- `regression`: the Fig. 22 heteroscedastic regression, ANN against MC dropconnect
  (`cimjax regress`);
- `trng_report`: the TRNG report and figures (`cimjax trng`; Figs. 14-18, Table I);
- `energy_table`: Table II and the design sweep (`cimjax energy`);
- `calibration`: the switching-fit figure (`cimjax device calibrate --plot`).

Nothing in the libraries imports from here.
"""
