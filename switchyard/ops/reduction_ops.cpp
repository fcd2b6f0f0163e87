// Reductions with CPU and Meta kernels.
