"""Sharded sampling over 4 emulated CPU devices equals single-device sampling, sample by sample."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import jax, jax.numpy as jnp, numpy as np
    from cimjax.sde import VPSDE, ExSituStep, InSituStep, sample_reverse, batch_mesh, pbit_mask
    assert len(jax.devices()) == 4, jax.devices()
    sde = VPSDE()
    w = jnp.linspace(-1, 1, 12).reshape(3, 4)
    params = {"w": w}
    ex = ExSituStep(sde, lambda p, x, t: -jnp.tanh(x @ p["w"][:, :3].T))
    def net(p, x, t, dt, key, keep):
        m = pbit_mask(key, p["w"].shape, keep)
        return dt * jnp.tanh(x @ (p["w"] * m)[:, :3]) / keep
    ins = InSituStep(sde, net, 0.5)
    for step in (ex, ins):
        one = batch_mesh(jax.devices()[:1])
        four = batch_mesh()
        a = sample_reverse(step, params, sde, n_steps=20, dim=3, seed=7, count=10, mesh=one)
        b = sample_reverse(step, params, sde, n_steps=20, dim=3, seed=7, count=10, mesh=four)   # 10 % 4 != 0
        c = np.concatenate([sample_reverse(step, params, sde, n_steps=20, dim=3, seed=7, start=s, count=n,
                                           mesh=four) for s, n in ((0, 3), (3, 7))])
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)
        assert np.all(np.abs(a[0] - a[1]) > 0)
    print("OK")
""")


def test_sharded_equals_single_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    res = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "OK" in res.stdout, res.stderr[-3000:]
