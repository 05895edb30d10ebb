"""Cross-dimension lagged structure left in the per-dimension AR(24) innovations of the
training residuals.

Usage: innovation_crosslag.py MODEL_DIR/latents.safetensors   (the latents train-diffusion caches)
Residuals r = z_m - z_0 of members 1-29 against conditioning member 0; per latent dimension the
AR(24) filter of `--innovation-order 24` (Yule-Walker on the pooled, uncentred autocorrelations);
then the R^2 of predicting the 20 leading principal components of the innovations from their
own previous L months (least squares, pooled over members). Near the chance level K*L/N the
innovations are white across dimensions too, and the per-dimension filter leaves nothing for
the network to reconstruct.
"""
import sys
import numpy as np
from safetensors import safe_open
from scipy.linalg import solve_toeplitz
f = safe_open(sys.argv[1], 'np')
z = {m: (lambda x: x.reshape(x.shape[0], -1))(f.get_tensor(f'member.{m}')).astype(np.float64) for m in range(30)}
T, D = z[0].shape; p = 24
r = np.stack([z[m] - z[0] for m in range(1, 30)])            # [29, T, D]
# pooled autocorrelation per dimension (no centring, as the model)
ac = np.zeros((D, p + 1))
for lag in range(p + 1):
    ac[:, lag] = (r[:, lag:, :] * r[:, :T - lag, :]).sum(axis=(0, 1))
e = np.empty_like(r)
for j in range(D):
    phi = solve_toeplitz(ac[j, :p], ac[j, 1:p + 1])
    x = r[:, :, j]
    pred = np.zeros_like(x)
    for k in range(1, p + 1):
        pred[:, k:] += phi[k - 1] * x[:, :-k]
    e[:, :, j] = x - pred
e = e[:, p:, :]                                               # drop the warm-up months
flat = e.reshape(-1, D); flat = flat - flat.mean(0)
u, s, vt = np.linalg.svd(flat[::7], full_matrices=False)
K = 20
pcs = (e - flat.mean(0)) @ vt[:K].T                           # [29, T', K]
share = (s[:K] ** 2 / (s ** 2).sum())
for L in (1, 3, 6, 12):
    X = np.concatenate([pcs[:, L - k - 1:pcs.shape[1] - k - 1, :] for k in range(L)], axis=2).reshape(-1, K * L)
    Y = pcs[:, L:, :].reshape(-1, K)
    coef, *_ = np.linalg.lstsq(X, Y, rcond=None)
    r2 = 1 - ((Y - X @ coef) ** 2).sum(0) / (Y ** 2).sum(0)
    print(f"L={L:2d}: R² of PC1..5 {np.round(r2[:5], 3)}, mean over {K} PCs {r2.mean():.3f} (chance ≈ {K * L / Y.shape[0]:.4f})")
print("variance share of PC1..5", np.round(share[:5], 3))
