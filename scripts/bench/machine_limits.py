"""What this machine can do at all: sgemm GFLOP/s (1 and 2 threads) and memory bandwidth, with
torch, to put the ratios of BENCHMARKS.md in context. Run: python3 scripts/bench/machine_limits.py"""
import torch, time
def best(f, n=5):
    ts=[]
    for _ in range(n):
        t=time.perf_counter(); f(); ts.append(time.perf_counter()-t)
    return min(ts)
for th in (1,2):
    torch.set_num_threads(th)
    for (m,n,k) in [(2048,2048,2048),(512,256,256),(512,32768,256)]:
        a=torch.randn(m,k); b=torch.randn(k,n); a@b
        t=best(lambda: a@b)
        print(f"torch sgemm {th}T {m}x{n}x{k}: {2*m*n*k/t/1e9:.1f} GFLOP/s")
torch.set_num_threads(2)
x=torch.empty(256*1024*1024); x.fill_(1); y=torch.empty_like(x)
t=best(lambda: y.copy_(x), 3); print(f"copy 1 GiB: {2*x.numel()*4/t/1e9:.1f} GB/s (read+write)")
t=best(lambda: x.sum(), 3); print(f"sum 1 GiB: {x.numel()*4/t/1e9:.1f} GB/s (read)")
