"""PyTorch reference of the engine benchmark (Scripts/bench/engine.sh).

The same models as Sources/TensorBench, on the CPU with the same thread count, timed
per step (median of --repeats after --warmup): one training step of the reference VAE
(32x64 input, channels 32/64/128, 4 latent channels, periodic-longitude/reflect-latitude
padding, GroupNorm(8)+SiLU residual blocks, area-weighted MSE + 1e-4 KL, AdamW), each of
its convolutions forward + backward, and forward-only steps of a small transformer
denoiser (4 pre-LN blocks, 4 heads, MLP 4x, exact GELU). One JSON line per measurement.
"""
import argparse, json, math, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def geo_pad(x):
    """Periodic in longitude (last dim), reflect in latitude."""
    return F.pad(F.pad(x, (1, 1, 0, 0), mode="circular"), (0, 0, 1, 1), mode="reflect")


class Conv(nn.Module):
    def __init__(self, cin, cout, k=3, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride)
        self.k = k

    def forward(self, x):
        return self.conv(geo_pad(x) if self.k == 3 else x)


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(8, c), Conv(c, c)
        self.n2, self.c2 = nn.GroupNorm(8, c), Conv(c, c)

    def forward(self, x):
        return x + self.c2(F.silu(self.n2(self.c1(F.silu(self.n1(x))))))


class VAE(nn.Module):
    def __init__(self, z=4):
        super().__init__()
        self.z = z
        self.enc = nn.Sequential(Conv(1, 32), ResBlock(32), Conv(32, 64, stride=2), ResBlock(64),
                                 Conv(64, 128, stride=2), ResBlock(128), nn.GroupNorm(8, 128), nn.SiLU(),
                                 Conv(128, 2 * z, k=1))
        self.dec_in, self.r3 = Conv(z, 128), ResBlock(128)
        self.up2, self.r2 = Conv(128, 64), ResBlock(64)
        self.up1, self.r1 = Conv(64, 32), ResBlock(32)
        self.norm, self.out = nn.GroupNorm(8, 32), Conv(32, 1)

    def forward(self, x):
        mu, logvar = self.enc(x).split(self.z, dim=1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        h = self.r3(self.dec_in(z))
        h = self.r2(self.up2(F.interpolate(h, scale_factor=2, mode="nearest")))
        h = self.r1(self.up1(F.interpolate(h, scale_factor=2, mode="nearest")))
        return self.out(F.silu(self.norm(h))), mu, logvar


class Block(nn.Module):
    def __init__(self, d, heads=4):
        super().__init__()
        self.heads = heads
        self.n1, self.qkv, self.proj = nn.LayerNorm(d), nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.n2, self.up, self.down = nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.n1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, d)
        h = x + self.proj(a)
        return h + self.down(F.gelu(self.up(self.n2(h))))


def timed(step, warmup, repeats):
    for _ in range(warmup):
        step()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1e3)
    samples.sort()
    return samples[len(samples) // 2], samples[0]


LAYERS = [("enc_in", 1, 32, 32, 64, 3, 1), ("res32", 32, 32, 32, 64, 3, 1), ("down1", 32, 64, 32, 64, 3, 2),
          ("res64", 64, 64, 16, 32, 3, 1), ("down2", 64, 128, 16, 32, 3, 2), ("res128", 128, 128, 8, 16, 3, 1),
          ("head", 128, 8, 8, 16, 1, 1), ("dec_in", 4, 128, 8, 16, 3, 1), ("up2", 128, 64, 16, 32, 3, 1),
          ("up1", 64, 32, 32, 64, 3, 1), ("out", 32, 1, 32, 64, 3, 1)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("case", choices=["vae_train", "vae_layers", "transformer"])
    p.add_argument("--shape", default="32,64,128")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=10)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    common = {"torch": torch.__version__, "threads": a.threads}
    if a.case == "vae_train":
        model = VAE()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
        x = torch.randn(a.batch, 1, 32, 64)
        lat = torch.tensor([-90 + (i + 0.5) * 180 / 32 for i in range(32)])
        w = torch.cos(torch.deg2rad(lat)).view(1, 1, 32, 1)
        w = w / w.mean()

        def step():
            opt.zero_grad()
            rec, mu, logvar = model(x)
            loss = (w * (rec - x) ** 2).mean() + 1e-4 * (0.5 * (mu ** 2 + logvar.exp() - 1 - logvar)).mean()
            loss.backward()
            opt.step()
        median, best = timed(step, a.warmup, a.repeats)
        print(json.dumps({"case": a.case, "shape": f"{a.batch},1,32,64", "median_ms": median, "min_ms": best, **common}))
    elif a.case == "vae_layers":
        for name, cin, cout, h, wd, k, stride in LAYERS:
            conv = Conv(cin, cout, k, stride)
            x = torch.randn(a.batch, cin, h, wd, requires_grad=True)
            g = torch.randn(a.batch, cout, h // stride, wd // stride)

            def step():
                conv.zero_grad()
                x.grad = None
                conv(x).backward(g)
            median, best = timed(step, a.warmup, a.repeats)
            flops = 3 * 2 * a.batch * (h // stride) * (wd // stride) * cout * cin * k * k
            print(json.dumps({"case": a.case, "layer": name, "median_ms": median, "gflops": flops / median / 1e6, **common}))
    else:
        b, t, d = map(int, a.shape.split(","))
        model = nn.Sequential(*[Block(d) for _ in range(4)], nn.LayerNorm(d), nn.Linear(d, d)).eval()
        x = torch.randn(b, t, d)

        def step():
            with torch.inference_mode():
                model(x)
        median, best = timed(step, a.warmup + 1, a.repeats)
        print(json.dumps({"case": a.case, "shape": a.shape, "median_ms": median, "min_ms": best, **common}))


if __name__ == "__main__":
    main()
