"""Sharded sampling over 4 emulated CPU devices equals single-device sampling, sample by sample.

Both samplers run on the emulated crossbar: ex-situ reads with P-bits fixed and explicit
noise, in-situ one exact-mode P-bit read per step (the demo's networks, tiny sizes).
"""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import jax, jax.numpy as jnp, numpy as np
    from cimjax.sde import CrossbarEpsNet, EpsScore, InSituCrossbarNet, init_noise_params
    from cimjax.nn import batch_mesh
    from cimjax.sde import VPSDE, ExSituStep, InSituStep, sample_reverse
    assert len(jax.devices()) == 4, jax.devices()
    sde = VPSDE()
    net = CrossbarEpsNet(3, 16, 1, t_dim=8)
    sp = net.init(jax.random.key(0), jnp.zeros((1, 3)), jnp.zeros((1,)))
    ins = InSituCrossbarNet(net, sde, noise_rows=2)
    ip = {"score": sp, "noise": init_noise_params(jax.random.key(1), 2, 3, 8)}
    for step, params in ((ExSituStep(sde, EpsScore(net, sde)), sp), (InSituStep(sde, ins), ip)):
        one = batch_mesh(jax.devices()[:1])
        four = batch_mesh()
        a = sample_reverse(step, params, sde, n_steps=20, dim=3, seed=7, count=10, mesh=one)
        b = sample_reverse(step, params, sde, n_steps=20, dim=3, seed=7, count=10, mesh=four)   # 10 % 4 != 0
        c = np.concatenate([sample_reverse(step, params, sde, n_steps=20, dim=3, seed=7, start=s, count=n,
                                           mesh=four) for s, n in ((0, 5), (5, 5))])
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-5)
        assert np.all(np.abs(a[0] - a[1]) > 0)
    print("OK")
""")


def test_sharded_equals_single_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    res = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "OK" in res.stdout, res.stderr[-3000:]
