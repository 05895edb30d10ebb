"""PyTorch side of the engine benchmark (driven by Scripts/bench/engine.sh).

Runs the architectures of Sources/TensorBench in PyTorch on the CPU: float32, seed 0,
torch.set_num_threads(--threads), one inter-op thread. Prints one JSON line on stdout per
measurement (vae_layers: one per layer).

Cases
  vae_train    one training step of the reference VAE: zero_grad, forward, loss, backward,
               AdamW (lr 1e-3, weight decay 0.01). Input x ~ N(0,1) of shape [B,1,32,64]
               (NCHW). Loss = area-weighted MSE(reconstruction, x), weights cos(latitude) at
               cell centres normalised to mean 1, + 1e-4 * mean Gaussian KL.
  vae_forward  the same model, inference only: decoder(mu(encoder(x))).
  vae_layers   each convolution of the VAE alone (geo-padding included): forward, then
               backward of a random output gradient giving dX and dW (and the bias gradient).
               gflops = 3 * 2*B*Hout*Wout*Cout*Cin*k*k / median time.
  transformer  forward-only step of the transformer denoiser on x ~ N(0,1) of shape
               --shape B,T,D: 4 pre-LN blocks (4-head self-attention with one D->3D qkv
               projection and F.scaled_dot_product_attention, no mask; MLP D->4D->D with
               exact GELU), then LayerNorm and Linear D->D.

VAE (all convolutions have bias; every 3x3 convolution uses geo-padding: longitude, the last
dim, padded circularly by 1, then latitude by 1 with reflection, then an unpadded conv;
GN = GroupNorm(8 groups, eps 1e-5); ResBlock(C): x + conv(SiLU(GN(conv(SiLU(GN(x)))))):
  encoder  conv 1->32, Res(32), conv/2 32->64, Res(64), conv/2 64->128, Res(128),
           GN, SiLU, conv1x1 128->2*Cz, split into mu (first Cz channels) and logvar
  sample   z = mu + exp(logvar/2) * eps
  decoder  conv Cz->128, Res(128), up x2, conv 128->64, Res(64), up x2, conv 64->32, Res(32),
           GN, SiLU, conv 32->1          (up = nearest-neighbour upsampling)

Timing: --warmup untimed steps, then --repeats steps, each timed with time.perf_counter
around one whole step; reports the median and the minimum in milliseconds.

  torch_reference.py CASE [--threads 2] [--batch B] [--warmup 3] [--repeats 10]
                          [--latent-channels 4] [--shape B,T,D]
  torch_reference.py --list-layers     the vae_layers table as one JSON line
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HEIGHT, WIDTH = 32, 64

# name, input channels, output channels, input height, input width, kernel, stride (Cz = 4)
LAYERS = [
    ("enc_in", 1, 32, 32, 64, 3, 1), ("res32", 32, 32, 32, 64, 3, 1), ("down1", 32, 64, 32, 64, 3, 2),
    ("res64", 64, 64, 16, 32, 3, 1), ("down2", 64, 128, 16, 32, 3, 2), ("res128", 128, 128, 8, 16, 3, 1),
    ("head", 128, 8, 8, 16, 1, 1), ("dec_in", 4, 128, 8, 16, 3, 1), ("up2", 128, 64, 16, 32, 3, 1),
    ("up1", 64, 32, 32, 64, 3, 1), ("out", 32, 1, 32, 64, 3, 1),
]


def layer_table():
    rows = []
    for name, cin, cout, h, w, k, stride in LAYERS:
        pad = k // 2  # geo-padding adds one cell on each side for 3x3 kernels
        rows.append({"layer": name, "cin": cin, "cout": cout, "h": h, "w": w, "kernel": k, "stride": stride,
                     "hout": (h + 2 * pad - k) // stride + 1, "wout": (w + 2 * pad - k) // stride + 1})
    return rows


class GeoConv(nn.Module):
    """Convolution with bias; a 3x3 kernel gets circular-longitude / reflect-latitude padding."""

    def __init__(self, cin, cout, kernel=3, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=0)
        self.pad = kernel // 2

    def forward(self, x):
        if self.pad:
            x = F.pad(x, (self.pad, self.pad, 0, 0), mode="circular")
            x = F.pad(x, (0, 0, self.pad, self.pad), mode="reflect")
        return self.conv(x)


def norm_act(channels):
    return nn.Sequential(nn.GroupNorm(8, channels, eps=1e-5), nn.SiLU())


def upsample():
    return nn.Upsample(scale_factor=2, mode="nearest")


class ResBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(norm_act(channels), GeoConv(channels, channels),
                                  norm_act(channels), GeoConv(channels, channels))

    def forward(self, x):
        return x + self.body(x)


class VAE(nn.Module):
    def __init__(self, latent):
        super().__init__()
        self.latent = latent
        self.encoder = nn.Sequential(
            GeoConv(1, 32), ResBlock(32), GeoConv(32, 64, stride=2), ResBlock(64),
            GeoConv(64, 128, stride=2), ResBlock(128), norm_act(128), GeoConv(128, 2 * latent, kernel=1))
        self.decoder = nn.Sequential(
            GeoConv(latent, 128), ResBlock(128), upsample(), GeoConv(128, 64), ResBlock(64),
            upsample(), GeoConv(64, 32), ResBlock(32), norm_act(32), GeoConv(32, 1))

    def encode(self, x):
        return self.encoder(x).split(self.latent, dim=1)  # mu, logvar

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decoder(z), mu, logvar


class TransformerBlock(nn.Module):
    def __init__(self, width, heads=4):
        super().__init__()
        self.heads = heads
        self.attn_norm, self.mlp_norm = nn.LayerNorm(width, eps=1e-5), nn.LayerNorm(width, eps=1e-5)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(approximate="none"), nn.Linear(4 * width, width))

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(self.attn_norm(x)).view(b, t, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each [B, heads, T, D/heads]
        attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, d)
        h = x + self.proj(attended)
        return h + self.mlp(self.mlp_norm(h))


def area_weights():
    lat = torch.tensor([-90 + (i + 0.5) * 180 / HEIGHT for i in range(HEIGHT)], dtype=torch.float64)
    w = torch.cos(torch.deg2rad(lat))
    return (w / w.mean()).float().view(1, 1, HEIGHT, 1)


def measure(step, warmup, repeats):
    """Median and minimum wall time of one step, in milliseconds."""
    for _ in range(warmup):
        step()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples), min(samples)


def vae_step(args, train):
    model = VAE(args.latent_channels)
    x = torch.randn(args.batch, 1, HEIGHT, WIDTH)
    if train:
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
        weights = area_weights()

        def step():
            optimizer.zero_grad(set_to_none=True)
            reconstruction, mu, logvar = model(x)
            mse = (weights * (reconstruction - x) ** 2).mean()
            kl = (0.5 * (mu ** 2 + logvar.exp() - 1 - logvar)).mean()
            (mse + 1e-4 * kl).backward()
            optimizer.step()
    else:
        model.eval()

        def step():
            with torch.inference_mode():
                model.decoder(model.encode(x)[0])
    return step, f"{args.batch},1,{HEIGHT},{WIDTH}"


def transformer_step(args):
    b, t, d = (int(n) for n in args.shape.split(","))
    model = nn.Sequential(*[TransformerBlock(d) for _ in range(4)], nn.LayerNorm(d, eps=1e-5), nn.Linear(d, d)).eval()
    x = torch.randn(b, t, d)

    def step():
        with torch.inference_mode():
            model(x)
    return step, f"{b},{t},{d}"


def run_layers(args, common):
    for row in layer_table():
        conv = GeoConv(row["cin"], row["cout"], row["kernel"], row["stride"])
        x = torch.randn(args.batch, row["cin"], row["h"], row["w"], requires_grad=True)
        grad = torch.randn(args.batch, row["cout"], row["hout"], row["wout"])

        def step():
            conv.zero_grad(set_to_none=True)
            x.grad = None
            conv(x).backward(grad)
        median, best = measure(step, args.warmup, args.repeats)
        flops = 3 * 2 * args.batch * row["hout"] * row["wout"] * row["cout"] * row["cin"] * row["kernel"] ** 2
        print(json.dumps({"case": "vae_layers", "layer": row["layer"],
                          "shape": f"{args.batch},{row['cin']},{row['h']},{row['w']}",
                          "median_ms": median, "min_ms": best, "gflops": flops / median / 1e6, **common}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", nargs="?", choices=["vae_train", "vae_forward", "vae_layers", "transformer"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--latent-channels", type=int, default=4)
    parser.add_argument("--shape", default="32,64,128", help="B,T,D of the transformer case")
    parser.add_argument("--list-layers", action="store_true", help="print the vae_layers table and exit")
    args = parser.parse_args()
    if args.list_layers:
        print(json.dumps({"batch": args.batch, "layers": layer_table()}))
        return
    if args.case is None:
        parser.error("CASE is required unless --list-layers is given")

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    common = {"repeats": args.repeats, "torch": torch.__version__, "threads": args.threads}
    if args.case == "vae_layers":
        run_layers(args, common)
        return
    if args.case == "transformer":
        step, shape = transformer_step(args)
    else:
        step, shape = vae_step(args, train=args.case == "vae_train")
    median, best = measure(step, args.warmup, args.repeats)
    print(json.dumps({"case": args.case, "shape": shape, "median_ms": median, "min_ms": best, **common}))


if __name__ == "__main__":
    main()
