// Engine benchmark (release builds only; driven by Scripts/bench/engine.sh). Prints one
// JSON line per measurement, in the format of Scripts/bench/torch_reference.py.
// Options: --threads N (OpenBLAS threads, 2), --loop-workers N (workers of the engine's own
// loops, 1), --repeats N.
//   TensorBench layers [NAME]     each conv of the reference VAE (or the one named): forward + dX + dW, vs raw sgemm
//   TensorBench vae-train [--parts P]  one training step of the reference VAE (batch 32, 32x64;
//                                 --parts: data-parallel, as `train-vae` runs it; without, the
//                                 whole batch as `--batch-parts 1` runs it, or with
//                                 --multi-threaded-blas on OpenBLAS's threads)
//   TensorBench transformer B,T,D [--split]  forward-only step of the small transformer denoiser
//                                 (--split: sequences split over cores, as `generate` samples;
//                                 --openblas-rows: their dense layers on OpenBLAS, not row-stable)

import CBLAS
import Foundation
import Models
import RandomStreams
import Tensor

let arguments = Array(CommandLine.arguments.dropFirst())
let threads = arguments.firstIndex(of: "--threads").map { Int(arguments[$0 + 1]) ?? 2 } ?? 2
let repeats = arguments.firstIndex(of: "--repeats").map { Int(arguments[$0 + 1]) ?? 10 } ?? 10
let loopWorkers = arguments.firstIndex(of: "--loop-workers").map { Int(arguments[$0 + 1]) ?? 1 } ?? 1
ComputeThreads.configure(threads, loopWorkers: loopWorkers)

/// Median and minimum of `repeats` timed runs after `warmup` untimed ones (milliseconds).
func time(warmup: Int = 2, _ body: () -> Void) -> (median: Double, min: Double) {
    for _ in 0..<warmup { body() }
    var samples: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    samples.sort()
    return (samples[samples.count / 2], samples[0])
}

/// `time` of two bodies in two rounds, A B A B: for each, the smaller of its two medians
/// and of its two minima (milliseconds).
func timeInRounds(_ a: () -> Void, _ b: () -> Void)
    -> (a: (median: Double, min: Double), b: (median: Double, min: Double)) {
    let a1 = time(a), b1 = time(b), a2 = time(a), b2 = time(b)
    return ((min(a1.median, a2.median), min(a1.min, a2.min)), (min(b1.median, b2.median), min(b1.min, b2.min)))
}

func emit(_ fields: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

var random = RandomStream(seed: 0)
let batch = 32

switch arguments.first {
case "layers":
    // name, in, out, height, width (input), kernel, stride
    let layers: [(String, Int, Int, Int, Int, Int, Int)] = [
        ("enc_in", 1, 32, 32, 64, 3, 1), ("res32", 32, 32, 32, 64, 3, 1), ("down1", 32, 64, 32, 64, 3, 2),
        ("res64", 64, 64, 16, 32, 3, 1), ("down2", 64, 128, 16, 32, 3, 2), ("res128", 128, 128, 8, 16, 3, 1),
        ("head", 128, 8, 8, 16, 1, 1), ("dec_in", 4, 128, 8, 16, 3, 1), ("up2", 128, 64, 16, 32, 3, 1),
        ("up1", 64, 32, 32, 64, 3, 1), ("out", 32, 1, 32, 64, 3, 1),
    ]
    // `layers NAME` measures one layer (for profiling).
    let only = arguments.dropFirst().first.flatMap { name in layers.contains { $0.0 == name } ? name : nil }
    for (name, cin, cout, h, w, k, stride) in layers where only == nil || only == name {
        let x = Tensor(gaussianShape: [batch, h, w, cin], random: &random)
        let weight = Tensor(gaussianShape: [k, k, cin, cout], standardDeviation: 0.1, random: &random)
        let bias = Tensor(shape: [cout])
        let outH = h / stride, outW = w / stride
        let m = batch * outH * outW, kk = k * k * cin
        let flops = 3.0 * 2 * Double(m) * Double(cout) * Double(kk)
        let grad = Tensor(gaussianShape: [batch, outH, outW, cout], random: &random)
        // Ours and the raw sgemm in two rounds (A B A B), each side the better of its two
        // medians: the machine's speed drifts over seconds, and timing each side in its own
        // block keeps its caches as they are when a layer runs alone.
        // Raw sgemm at the same three shapes: forward [m,kk]·[kk,cout], dW [kk,m]·[m,cout], dX [m,cout]·[cout,kk].
        let a = Tensor(gaussianShape: [m, kk], random: &random), b = Tensor(gaussianShape: [kk, cout], random: &random)
        let c = Tensor(shape: [m, cout]), dw = Tensor(shape: [kk, cout]), dx = Tensor(shape: [m, kk])
        let (ours, raw) = timeInRounds({
            let input = Variable(requiringGradient: x), wv = Variable(requiringGradient: weight)
            Variable.conv2d(input, weight: wv, bias: Variable(bias, gradient: Tensor(shape: [cout])), stride: stride,
                            padding: .geographic).backward(seed: grad)
        }, {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(cout), Int32(kk), 1, a.pointer, Int32(kk),
                        b.pointer, Int32(cout), 0, c.pointer, Int32(cout))
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(kk), Int32(cout), Int32(m), 1, a.pointer, Int32(kk),
                        c.pointer, Int32(cout), 1, dw.pointer, Int32(cout))
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(kk), Int32(cout), 1, c.pointer, Int32(cout),
                        b.pointer, Int32(cout), 0, dx.pointer, Int32(kk))
        })
        emit(["case": "vae_layers", "layer": name, "median_ms": ours.median, "gflops": flops / ours.median / 1e6,
              "gemm_gflops": flops / raw.median / 1e6, "fraction_of_gemm": raw.median / ours.median, "threads": threads])
    }
case "vae-train":
    let vae = VariationalAutoencoder(configuration: VAEConfiguration(channels: [32, 64, 128], latentChannels: 4), random: &random)
    let optimizer = AdamW(parameters: vae.parameters, learningRate: 1e-3)
    let x = Tensor(gaussianShape: [batch, 32, 64, 1], random: &random)
    let weights = Tensor(shape: [32, 64], repeating: 1)
    // --parts P: the batch split into P parts back-propagated at once (DataParallel), as
    // `train-vae` runs its steps; otherwise the whole batch as `train-vae --batch-parts 1`
    // runs it (ComputeThreads.onEngineWorkers), or with --multi-threaded-blas on OpenBLAS's
    // threads and the engine's loops on one core (for comparison).
    let parts = arguments.firstIndex(of: "--parts").map { Int(arguments[$0 + 1]) ?? 1 } ?? 1
    let multiThreadedBLAS = arguments.contains("--multi-threaded-blas")
    let result = time {
        vae.zeroGradients()
        if parts > 1 {
            _ = DataParallel.accumulateGradients(parameters: vae.parameters, parts: parts) { p in
                var noise = random.substream(UInt64(p))
                let (rows, share) = DataParallel.part(p, of: parts, x)
                return vae.loss(rows, areaWeights: weights, random: &noise).total * share
            }
        } else if multiThreadedBLAS {
            vae.loss(x, areaWeights: weights, random: &random).total.backward()
        } else {
            ComputeThreads.onEngineWorkers { vae.loss(x, areaWeights: weights, random: &random).total.backward() }
        }
        optimizer.update()
    }
    emit(["case": "vae_train", "shape": "\(batch),1,32,64", "median_ms": result.median, "min_ms": result.min, "threads": threads,
          "parts": parts, "multi_threaded_blas": multiThreadedBLAS])
case "transformer":
    let dims = (arguments.dropFirst().first ?? "32,64,128").split(separator: ",").compactMap { Int($0) }
    let (b, t, d) = (dims[0], dims[1], dims[2])
    let blocks = (0..<4).map { TransformerBlock("block\($0)", width: d, heads: 4, random: &random) }
    let norm = LayerNorm("norm", width: d), output = Linear("out", inputs: d, outputs: d, random: &random)
    let x = Tensor(gaussianShape: [b, t, d], random: &random)
    func forward(_ x: Tensor) {
        var h = Variable(x)
        for block in blocks { h = block(h) }
        _ = output(norm(h))
    }
    // --split: the sequences split into one contiguous part per core, each part on its own
    // worker with single-threaded kernels and row-stable dense layers, as `generate` runs its
    // member groups (ComputeThreads.concurrently, RowStableProducts). Otherwise the whole
    // batch with multi-threaded OpenBLAS.
    let split = arguments.contains("--split")
    // --openblas-rows: the split parts' dense layers on OpenBLAS instead (not row-stable), for comparison.
    let openBLASRows = arguments.contains("--openblas-rows")
    let parts: [Tensor] = !split ? [] : (0..<threads).map { w in
        let rows = (w * b / threads)..<((w + 1) * b / threads)
        let part = Tensor(uninitializedShape: [rows.count, t, d])
        part.pointer.update(from: x.pointer + rows.lowerBound * t * d, count: rows.count * t * d)
        return part
    }
    // Transposed once, as `generate` does per sampling call (not per step).
    let transposed = TransposedWeights()
    let result = time(warmup: 3) {
        if split {
            ComputeThreads.concurrently(jobs: threads) { worker, workers in
                for part in stride(from: worker, to: parts.count, by: workers) {
                    GradientRecording.disabled {
                        if openBLASRows { forward(parts[part]) } else { RowStableProducts.enabled(weights: transposed) { forward(parts[part]) } }
                    }
                }
            }
        } else {
            GradientRecording.disabled { forward(x) }
        }
    }
    emit(["case": "transformer", "shape": "\(b),\(t),\(d)", "median_ms": result.median, "min_ms": result.min,
          "threads": threads, "split": split, "row_stable": split && !openBLASRows])
default:
    FileHandle.standardError.write(Data("usage: TensorBench layers|vae-train|transformer B,T,D [--split] [--threads N] [--loop-workers N] [--repeats N]\n".utf8))
    exit(2)
}
